import type { ModelSummary } from "./summary";

/** What a job record may spend on its copy of the summary: well inside a Durable Object row. */
export const MAX_RECORD_SUMMARY_BYTES = 256 * 1024;

/** Entries of each long list the record copy starts with before halving. */
const FIRST_KEEP = 1000;

/**
 * The summary as the job record keeps it: the same, unless its JSON exceeds `maxBytes`; then
 * the long lists (materials, storeys) are cut to their first entries and `truncated` says
 * how many there are in all. summary.json beside the model always holds the full summary.
 */
export function boundedSummary(summary: ModelSummary, maxBytes = MAX_RECORD_SUMMARY_BYTES): ModelSummary {
  if (jsonBytes(summary) <= maxBytes) return summary;
  for (let keep = FIRST_KEEP; ; keep = Math.floor(keep / 2)) {
    const copy: ModelSummary = {
      ...summary,
      materials: summary.materials.slice(0, keep),
      storeys: summary.storeys.slice(0, keep),
      truncated: { materials: summary.materials.length, storeys: summary.storeys.length },
    };
    if (keep === 0 || jsonBytes(copy) <= maxBytes) return copy;
  }
}

function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).byteLength;
}
