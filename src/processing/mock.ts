import type { FailureCode } from "./processor";
import { type ModelSource, ProcessingError, type RandomAccessProcessor, tooLargeError } from "./processor";
import type { ModelSummary } from "./summary";

export interface MockProcessorOptions {
  outcome: "succeed" | FailureCode;
  delayMs: number;
  maxModelBytes?: number;
}

const READ_STEP = 1024 * 1024;

/**
 * Stands in for web-ifc in tests of the job flow: waits `delayMs`, then fails with the
 * configured code or answers a summary made by reading the whole source (so the chunked
 * copy is exercised too): the schema from the header and one entity per line starting "#".
 */
export function mockProcessor(options: MockProcessorOptions): RandomAccessProcessor {
  const maxModelBytes = options.maxModelBytes ?? Number.MAX_SAFE_INTEGER;
  return {
    engine: "mock",
    input: "random-access",
    maxModelBytes,
    async process(source: ModelSource): Promise<ModelSummary> {
      if (source.size > maxModelBytes) throw tooLargeError(source.size, maxModelBytes);
      const started = Date.now();
      if (options.delayMs > 0) await new Promise((done) => setTimeout(done, options.delayMs));
      if (options.outcome !== "succeed") {
        throw new ProcessingError(options.outcome, `The mock processor was set to fail with ${options.outcome}.`, options.outcome === "storage_unavailable");
      }
      let entityCount = 0;
      let previous = 0x0a;
      for (let offset = 0; offset < source.size; offset += READ_STEP) {
        for (const byte of source.read(offset, READ_STEP)) {
          if (byte === 0x23 && previous === 0x0a) entityCount++;
          previous = byte;
        }
      }
      const head = new TextDecoder().decode(source.read(0, Math.min(source.size, 4096)));
      return {
        schema: /FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'/i.exec(head)?.[1] ?? "",
        entityCount,
        header: { fileName: null, timeStamp: null, originatingSystem: null, preprocessorVersion: null, description: [] },
        project: null,
        storeys: [],
        counts: {},
        materials: [],
        file: { size: source.size, sha256: "" },
        validation: {
          errors: [],
          warnings: [],
          unknownTypes: {},
          duplicateIds: 0,
          danglingReferences: 0,
          truncated: false,
          schemaTable: null,
          errorCount: 0,
          warningCount: 0,
        },
        processor: { engine: "mock", version: "0", durationMs: Date.now() - started },
      };
    },
  };
}
