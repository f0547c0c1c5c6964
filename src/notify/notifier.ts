import type { CircuitOpenError } from "../resilience/errors";
import type { NotificationEvent } from "./events";

/** Channels the service can notify through; a job keeps one delivery state per event and channel. */
export type Channel = "sqs" | "webhook" | "queue";

/**
 * What one delivery attempt came to. `retry` asks the scheduler for another attempt (at the
 * earliest after `retryAfterMs` when the peer said so); with `notAttempted` nothing was sent
 * (the peer's circuit breaker is open), so the attempt does not count against the schedule.
 * `gone` means the receiver asked us to stop for good (the channel is disabled for this
 * notification); `failed-permanently` means no retry can succeed (the request itself is bad).
 */
/**
 * `reason` is shown to the tenant on the job (`notifications[].lastError`): short, in our words.
 * `detail` is what the peer or runtime said (queue URLs, ARNs, account ids): logs only.
 */
export type DeliveryOutcome =
  | { kind: "delivered"; detail?: string }
  | { kind: "retry"; reason: string; retryAfterMs?: number; notAttempted?: true; detail?: string }
  | { kind: "gone"; reason: string; detail?: string }
  | { kind: "failed-permanently"; reason: string; detail?: string };

/** The port every channel adapter implements. `send` never throws for a peer's failure. */
export interface Notifier {
  readonly channel: Channel;
  send(event: NotificationEvent): Promise<DeliveryOutcome>;
}

export const delivered = (detail?: string): DeliveryOutcome => (detail === undefined ? { kind: "delivered" } : { kind: "delivered", detail });
export const retry = (reason: string, retryAfterMs?: number, detail?: string): DeliveryOutcome => ({
  kind: "retry",
  reason,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  ...(detail === undefined ? {} : { detail }),
});
/** The breaker turned the send away before anything left: try again once it may let calls through. */
export const turnedAway = (error: CircuitOpenError): DeliveryOutcome => ({
  kind: "retry",
  reason: `not sent: the ${error.key} circuit breaker is ${error.state} after repeated failures`,
  retryAfterMs: error.retryAfterMs,
  notAttempted: true,
});
export const gone = (reason: string): DeliveryOutcome => ({ kind: "gone", reason });
export const failedPermanently = (reason: string, detail?: string): DeliveryOutcome =>
  detail === undefined ? { kind: "failed-permanently", reason } : { kind: "failed-permanently", reason, detail };

/** Reads a Retry-After header (seconds or an HTTP date) into milliseconds from `now`. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A short, log-safe description of a thrown value (a fetch failure, a timeout). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    return error.message || error.name;
  }
  return String(error);
}
