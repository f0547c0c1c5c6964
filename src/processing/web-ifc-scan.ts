/** What web-ifc's summary takes from the stream engine's scanner run over the same bytes. */
import type { ModelSource } from "./processor";
import type { ModelScan } from "./stream";
import { type ModelSummary, normaliseCounts } from "./summary";

export function* blocksOf(source: ModelSource): Generator<Uint8Array> {
  for (let offset = 0; offset < source.size; offset += SCAN_BLOCK_BYTES) yield source.read(offset, SCAN_BLOCK_BYTES);
}

const SCAN_BLOCK_BYTES = 1024 * 1024;

/**
 * web-ifc's census omits instances of types its schema table lacks: those come from the scan,
 * which counts every instance; everything web-ifc read stays as it read it.
 */
export function withScan(summary: Omit<ModelSummary, "processor" | "file" | "validation">, scan: ModelScan): Omit<ModelSummary, "processor" | "file"> {
  const counts = { ...summary.counts };
  let entityCount = summary.entityCount;
  for (const [type, count] of Object.entries(scan.summary.counts)) {
    if (type in counts) continue;
    counts[type] = count;
    entityCount += count;
  }
  return { ...summary, entityCount, counts: normaliseCounts(Object.entries(counts)), validation: scan.summary.validation };
}

