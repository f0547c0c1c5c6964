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
