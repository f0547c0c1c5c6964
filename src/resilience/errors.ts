import type { BreakerStatus } from "./breaker";

/** Thrown instead of calling a dependency whose breaker is open (or half-open with its probe out). */
export class CircuitOpenError extends Error {
  constructor(
    readonly key: string,
    readonly retryAfterMs: number,
    readonly state: BreakerStatus = "open",
  ) {
    super(`circuit ${key} is ${state}; retry in ${retryAfterMs} ms`);
    this.name = "CircuitOpenError";
  }
}

/** A guarded call that did not settle within its deadline. */
export class DependencyTimeoutError extends Error {
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`${key} did not answer within ${timeoutMs} ms`, options);
    this.name = "DependencyTimeoutError";
  }
}
