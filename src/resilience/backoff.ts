export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * "Full jitter" backoff: a uniformly random delay in [0, min(cap, base * 2^attempt)).
 * Spreading retries over the whole window keeps many failing jobs from retrying in step.
 * `attempt` counts from 0 for the first retry.
 */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
