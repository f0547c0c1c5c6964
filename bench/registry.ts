import { s3Upload } from "./s3-upload.ts";
import { processing } from "./processing.ts";
import { scan } from "./scan.ts";
import { uploadMemory } from "./upload-memory.ts";

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<void>;
}

export const benchmarks: Benchmark[] = [uploadMemory, s3Upload, processing, scan];
