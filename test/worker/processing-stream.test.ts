import { beforeAll, describe, expect, it } from "vitest";
import { streamProcessor } from "../../src/processing/stream";
import type { ModelSummary } from "../../src/processing/summary";
import { bytesModel } from "../support/model-stream";
import { materialPairs, sortedPairs } from "../support/processing";
import { type ExpectedModel, REFERENCE_MODELS, expectedModels, fixture, sha256Hex } from "../support/worker";

let expected: ExpectedModel[];

beforeAll(async () => {
  expected = await expectedModels();
});

describe("the stream engine on the reference models", () => {
  for (const file of REFERENCE_MODELS) {
    it(`summarises ${file} exactly as the reference says`, async () => {
      const reference = expected.find((m) => m.file === file);
      if (!reference) throw new Error(`${file} missing from expected.jsonl`);
      const bytes = await fixture(file);
      const summary: ModelSummary = await streamProcessor().process(bytesModel(bytes, 7919));
      expect(summary.schema).toBe(reference.schema);
      expect(summary.entityCount).toBe(reference.entities);
      expect(summary.storeys.map((s) => s.name).sort()).toEqual(reference.storeys);
      for (const [type, count] of Object.entries(reference.counts)) expect(summary.counts[type] ?? 0, type).toBe(count);
      expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(reference.entities);
      expect(materialPairs(summary)).toEqual(sortedPairs(reference.materials));
      expect(summary.file).toEqual({ size: bytes.byteLength, sha256: await sha256Hex(bytes) });
      expect(summary.processor.engine).toBe("stream");
      expect(summary.validation.errors).toEqual([]);
    });
  }
});
