/**
 * An isolate's cached view of one circuit. It saves a Durable Object round trip per call
 * while the breaker is closed, rejects at once while it is known to be open, and opens on
 * its own when this isolate alone has seen the threshold of consecutive failures, so an
 * isolate does not keep hammering a dead dependency while its reports are still in flight.
 */
import type { BreakerSettings, BreakerStatus, CallOutcome } from "./breaker";

/** Isolates may act on a cached view for at most this long before asking the object again. */
export const CIRCUIT_CACHE_MS = 1_000;

export interface LocalView {
  status: BreakerStatus;
  /** When the view was last confirmed by the object, or opened locally. */
  fetchedAt: number;
  /** While rejecting: until when. */
  retryUntil: number;
  /** Consecutive failures this isolate saw itself. */
  localFailures: number;
  /** Rejections made from this view not yet told to the object. */
  pendingRejections: number;
}

export type LocalDecision = { kind: "ask" } | { kind: "allow" } | { kind: "reject"; retryAfterMs: number; state: BreakerStatus };

export function decideLocally(view: LocalView | undefined, now: number, cacheMs: number = CIRCUIT_CACHE_MS): LocalDecision {
  if (!view || now - view.fetchedAt >= cacheMs || now < view.fetchedAt) return { kind: "ask" };
  if (view.status === "closed") return { kind: "allow" };
  if (now < view.retryUntil) return { kind: "reject", retryAfterMs: view.retryUntil - now, state: view.status };
  // Half-open (or open past its time): only the object may hand out the single probe.
  return { kind: "ask" };
}

/**
 * The object's answer becomes the view, unless the view changed after the question was
 * asked: a slow reply to an earlier report must not close again a breaker this isolate has just opened.
 */
export function viewFromObject(
  previous: LocalView | undefined,
  answer: { state: BreakerStatus; retryAfterMs: number },
  now: number,
  askedAt: number = now,
): LocalView {
  if (previous && askedAt < previous.fetchedAt) return previous;
  return {
    status: answer.state,
    fetchedAt: now,
    retryUntil: now + answer.retryAfterMs,
    localFailures: answer.state === "closed" ? (previous?.localFailures ?? 0) : 0,
    pendingRejections: 0,
  };
}

export function countLocalRejection(view: LocalView): LocalView {
  return { ...view, pendingRejections: view.pendingRejections + 1 };
}

/** Applies this isolate's own outcome at once, before the object has heard of it. */
export function viewAfterOutcome(
  view: LocalView | undefined,
  outcome: CallOutcome,
  now: number,
  settings: BreakerSettings,
): LocalView | undefined {
  if (outcome === "success") return view ? { ...view, localFailures: 0 } : undefined;
  if (outcome !== "failure" && outcome !== "timeout") return view;
  const localFailures = (view?.localFailures ?? 0) + 1;
  if (localFailures >= settings.failureThreshold) {
    return { status: "open", fetchedAt: now, retryUntil: now + settings.resetMs, localFailures: 0, pendingRejections: view?.pendingRejections ?? 0 };
  }
  if (!view) return { status: "closed", fetchedAt: Number.NEGATIVE_INFINITY, retryUntil: 0, localFailures, pendingRejections: 0 };
  return { ...view, localFailures };
}
