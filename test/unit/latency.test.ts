import { describe, expect, it } from "vitest";
import { LATENCY_RESERVOIR_SIZE, addSample, emptyReservoir, percentile, summarize } from "../../src/resilience/latency";

describe("latency reservoir", () => {
  it("reports nothing before the first sample", () => {
    expect(summarize(emptyReservoir())).toEqual({ samples: 0, p50: null, p95: null, p99: null });
  });

  it("computes nearest-rank percentiles", () => {
    let reservoir = emptyReservoir();
    for (let ms = 1; ms <= 100; ms++) reservoir = addSample(reservoir, ms);
    expect(summarize(reservoir)).toEqual({ samples: 100, p50: 50, p95: 95, p99: 99 });
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2], 0)).toBe(1);
  });

  it("keeps only the most recent samples, in bounded memory", () => {
    let reservoir = emptyReservoir();
    for (let i = 0; i < LATENCY_RESERVOIR_SIZE; i++) reservoir = addSample(reservoir, 1000);
    for (let i = 0; i < LATENCY_RESERVOIR_SIZE; i++) reservoir = addSample(reservoir, 5);
    expect(reservoir.samples).toHaveLength(LATENCY_RESERVOIR_SIZE);
    expect(summarize(reservoir)).toMatchObject({ p50: 5, p99: 5 });
  });

  it("overwrites the oldest sample first once full", () => {
    let reservoir = emptyReservoir();
    for (const ms of [1, 2, 3]) reservoir = addSample(reservoir, ms, 3);
    reservoir = addSample(reservoir, 9, 3);
    expect(reservoir).toEqual({ samples: [9, 2, 3], next: 1 });
  });

  it("stores whole non-negative milliseconds", () => {
    let reservoir = addSample(emptyReservoir(), 2.6);
    reservoir = addSample(reservoir, -3);
    reservoir = addSample(reservoir, Number.NaN);
    expect(reservoir.samples).toEqual([3, 0, 0]);
  });
});
