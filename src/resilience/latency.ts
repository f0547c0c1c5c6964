/**
 * Latency percentiles from a bounded reservoir: the most recent `capacity` samples in a
 * ring. Recent samples are what an operator wants during an incident, and the memory (and
 * the persisted row) stays the same size however many calls there were.
 */

export const LATENCY_RESERVOIR_SIZE = 256;

export interface LatencyReservoir {
  samples: number[];
  /** Where the next sample goes once the ring is full. */
  next: number;
}

export interface LatencySummary {
  samples: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function emptyReservoir(): LatencyReservoir {
  return { samples: [], next: 0 };
}

export function addSample(
  reservoir: LatencyReservoir,
  latencyMs: number,
  capacity: number = LATENCY_RESERVOIR_SIZE,
): LatencyReservoir {
  const value = Number.isFinite(latencyMs) ? Math.max(0, Math.round(latencyMs)) : 0;
  const samples = reservoir.samples.slice(0, capacity);
  if (samples.length < capacity) return { samples: [...samples, value], next: 0 };
  const at = reservoir.next % capacity;
  samples[at] = value;
  return { samples, next: (at + 1) % capacity };
}

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export function summarize(reservoir: LatencyReservoir): LatencySummary {
  const sorted = [...reservoir.samples].sort((a, b) => a - b);
  return { samples: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}
