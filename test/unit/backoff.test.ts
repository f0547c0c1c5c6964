import { describe, expect, it } from "vitest";
import { CIRCUIT_WAIT_JITTER_MS, INLINE_BACKOFF, backoffDelayMs, circuitWaitMs } from "../../src/resilience/backoff";

const almostOne = () => 0.999999;

describe("full-jitter backoff", () => {
  it("draws the delay from [0, base * 2^attempt)", () => {
    expect(backoffDelayMs(0, INLINE_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelayMs(0, INLINE_BACKOFF, () => 0.5)).toBe(50);
    expect(backoffDelayMs(1, INLINE_BACKOFF, () => 0.5)).toBe(100);
    expect(backoffDelayMs(2, INLINE_BACKOFF, almostOne)).toBe(399);
  });

  it("never exceeds the cap of 20 s, however many attempts", () => {
    expect(backoffDelayMs(8, INLINE_BACKOFF, almostOne)).toBe(19_999);
    expect(backoffDelayMs(2000, INLINE_BACKOFF, almostOne)).toBe(19_999);
  });

  it("spreads delays over the whole window rather than clustering at the ceiling", () => {
    let seed = 42;
    // A small deterministic LCG stands in for Math.random.
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 1000 }, () => backoffDelayMs(3, INLINE_BACKOFF, random));
    expect(Math.min(...delays)).toBeLessThan(80);
    expect(Math.max(...delays)).toBeGreaterThan(720);
    expect(delays.every((d) => d >= 0 && d < 800)).toBe(true);
  });

  it("clamps a misbehaving random source into the window", () => {
    expect(backoffDelayMs(1, INLINE_BACKOFF, () => 7)).toBe(200);
    expect(backoffDelayMs(1, INLINE_BACKOFF, () => -1)).toBe(0);
  });

  it("refuses a negative or fractional attempt", () => {
    expect(() => backoffDelayMs(-1, INLINE_BACKOFF, Math.random)).toThrow(RangeError);
    expect(() => backoffDelayMs(1.5, INLINE_BACKOFF, Math.random)).toThrow(RangeError);
  });
});

describe("waiting for an open breaker", () => {
  it("waits until the breaker half-opens plus up to a second of jitter", () => {
    expect(circuitWaitMs(42_000, () => 0)).toBe(42_000);
    expect(circuitWaitMs(42_000, almostOne)).toBe(42_000 + CIRCUIT_WAIT_JITTER_MS - 1);
    expect(circuitWaitMs(1_000, () => 0.5)).toBe(1_500);
  });

  it("never waits a negative, unbounded or non-finite time", () => {
    expect(circuitWaitMs(-5, () => 0)).toBe(0);
    expect(circuitWaitMs(Number.NaN, () => 2)).toBe(CIRCUIT_WAIT_JITTER_MS);
    expect(circuitWaitMs(10 * 86_400_000, () => 0)).toBe(86_400_000);
  });
});
