import { type BackoffPolicy, backoffDelayMs } from "./backoff";

export interface RetryOptions {
  /** Total tries, the first one included. */
  attempts: number;
  backoff: BackoffPolicy;
  /** Whether a failure may be tried again (a throttle may, a bad credential may not). */
  retryable: (error: unknown) => boolean;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Told before each wait, e.g. to log the retry. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /**
   * Asked before each retry, after `retryable` said yes: the dependency's retry budget. A
   * no gives up with the last error, so a failing dependency is not hit with retries on top.
   */
  mayRetry?: (error: unknown) => Promise<boolean>;
}

/**
 * Runs `call` until it succeeds, fails with a non-retryable error, runs out of attempts or
 * is refused a retry by `mayRetry`;
 * then rethrows the last error unchanged. Time and randomness are injected, so it does no I/O
 * of its own and tests need no real clock.
 */
export async function retryWithBackoff<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt + 1 >= options.attempts || !options.retryable(error)) throw error;
      if (options.mayRetry && !(await options.mayRetry(error))) throw error;
      const delay = backoffDelayMs(attempt, options.backoff, options.random);
      options.onRetry?.(error, attempt + 1, delay);
      await options.sleep(delay);
    }
  }
}
