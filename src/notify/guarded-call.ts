import type { CallOutcome } from "../resilience/breaker";
import { isCircuitKey } from "../resilience/keys";
import type { CircuitClient } from "../circuits/client";

/** What a notifier needs of the circuit breakers: `guard` alone (a CircuitClient, or a test double). */
export type NotifierCircuits = Pick<CircuitClient, "guard">;

/**
 * A peer's answer that was not a success, carried out of a guarded call as an error so the
 * breaker counts it: `outcome` says whether it speaks of the peer's health ("failure": 5xx,
 * 429, throttling) or of our request ("client-error": every other 3xx/4xx).
 */
export class PeerAnswer extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
    readonly outcome: CallOutcome,
  ) {
    super(`peer answered ${status}`);
    this.name = "PeerAnswer";
  }
}

/** 5xx and 429 are the peer failing or overloaded; other non-2xx answers are about the request. */
export const outcomeOfStatus = (status: number): CallOutcome => (status >= 500 || status === 429 ? "failure" : "client-error");

/**
 * Runs one send behind the peer's breaker when `circuits` is given and `key` names a circuit
 * (else with a plain deadline). Throws CircuitOpenError without calling `send` while the breaker is open, and
 * PeerAnswer as `send` threw it; anything else `send` throws counts as a failure.
 */
export function guardedCall<T>(
  circuits: NotifierCircuits | undefined,
  key: string,
  timeoutMs: number,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // A host no breaker can be named after must still get its deliveries.
  if (!circuits || !isCircuitKey(key)) return send(AbortSignal.timeout(timeoutMs));
  return circuits.guard(key, (signal) => send(signal), {
    timeoutMs,
    classify: (error) => (error instanceof PeerAnswer ? error.outcome : "failure"),
  });
}
