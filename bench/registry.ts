import { s3Upload } from "./s3-upload.ts";
import { processing } from "./processing.ts";
import { scan } from "./scan.ts";
import { soak } from "./soak.ts";
import { uploadMemory } from "./upload-memory.ts";
import { uploadSessions } from "./upload-sessions.ts";
import { smallUploads } from "./small-uploads.ts";
import { abuse } from "./abuse.ts";

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<void>;
}

export const benchmarks: Benchmark[] = [uploadMemory, s3Upload, processing, uploadSessions, smallUploads, abuse, soak, scan];
