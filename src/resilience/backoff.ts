/**
 * Full-jitter exponential backoff: a delay drawn uniformly from [0, min(cap, base * 2^attempt)).
 * Full jitter spreads retries of many clients that failed together (a throttled bucket) so
 * they do not come back in lockstep. Pure: the random source is injected.
 */
export interface BackoffPolicy {
  /** Delay ceiling of the first retry, in ms. */
  baseMs: number;
  /** No delay ever exceeds this, in ms. */
  capMs: number;
}

/** Inline retries (an S3 part): base 100 ms, cap 20 s. */
export const INLINE_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 20_000 };

/**
 * @param attempt 0 for the delay before the first retry, 1 before the second, ...
 * @param random returns a number in [0, 1), like Math.random
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  // 2^attempt overflows to Infinity for huge attempts; min() with the cap keeps it finite.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  const unit = Math.min(Math.max(random(), 0), 1);
  return Math.floor(unit * ceiling);
}

/** At most this much is added to a wait for an open breaker. */
export const CIRCUIT_WAIT_JITTER_MS = 1_000;
/** A wait for an open breaker never exceeds a day, the longest a breaker may stay open. */
const MAX_CIRCUIT_WAIT_MS = 24 * 60 * 60 * 1000;

/**
 * How long a caller turned away by an open breaker waits before it asks again: the time
 * until the breaker half-opens plus up to a second of jitter, so the jobs waiting on one
 * breaker do not all come back in the same instant and crowd out the single probe.
 */
export function circuitWaitMs(retryAfterMs: number, random: () => number): number {
  const base = Math.min(Math.max(0, Number.isFinite(retryAfterMs) ? retryAfterMs : 0), MAX_CIRCUIT_WAIT_MS);
  const unit = Math.min(Math.max(random(), 0), 1);
  return base + Math.floor(unit * CIRCUIT_WAIT_JITTER_MS);
}
