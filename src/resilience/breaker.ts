/**
 * Circuit breaker state machine. Pure: the caller passes the time in and persists the
 * returned state, so the same logic runs in a Durable Object and in unit tests.
 *
 * closed --(threshold consecutive failures)--> open --(resetMs elapsed)--> half-open
 * half-open: one probe at a time; its success closes, its failure opens again.
 */

export type BreakerStatus = "closed" | "open" | "half-open";

/** How a guarded call ended. A client-error (4xx from the dependency) is neither health nor sickness. */
export type CallOutcome = "success" | "failure" | "timeout" | "client-error";

export interface BreakerSettings {
  failureThreshold: number;
  resetMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failureThreshold: 5, resetMs: 60_000 };

/** Plain data, JSON round-trippable. */
export interface BreakerState {
  /** Stored status; "open" becomes half-open by time alone, see `statusAt`. */
  status: "closed" | "open" | "half-open";
  consecutiveFailures: number;
  /** When it last opened (ms since epoch), or null while it never has. */
  openedAt: number | null;
  /** When the probe now in flight was admitted, or null. */
  probeStartedAt: number | null;
}

export interface Admission {
  allowed: boolean;
  /** The status after this decision. */
  state: BreakerStatus;
  /** 0 when allowed; otherwise how long until asking again makes sense. */
  retryAfterMs: number;
  /** This call is the half-open probe: report it with probe: true. */
  probe: boolean;
}

/**
 * A probe whose report never arrives (its isolate died) must not wedge the breaker in
 * half-open: after this long another caller may probe.
 */
export const probeLeaseMs = (settings: BreakerSettings): number => settings.resetMs;

/** While a probe is in flight others are told to come back soon: the probe decides shortly. */
export const HALF_OPEN_BUSY_RETRY_MS = 1_000;

export function initialBreaker(): BreakerState {
  return { status: "closed", consecutiveFailures: 0, openedAt: null, probeStartedAt: null };
}

/** The status as a caller sees it at `now`: an open breaker past its reset time is half-open. */
export function statusAt(state: BreakerState, now: number, settings: BreakerSettings): BreakerStatus {
  if (state.status === "open" && state.openedAt !== null && now - state.openedAt >= settings.resetMs) return "half-open";
  return state.status;
}

/** Milliseconds until an open breaker half-opens (0 unless open). */
export function remainingOpenMs(state: BreakerState, now: number, settings: BreakerSettings): number {
  if (statusAt(state, now, settings) !== "open" || state.openedAt === null) return 0;
  return Math.max(0, state.openedAt + settings.resetMs - now);
}

export function admit(
  state: BreakerState,
  now: number,
  settings: BreakerSettings,
): { state: BreakerState; admission: Admission } {
  const status = statusAt(state, now, settings);
  if (status === "closed") {
    return { state, admission: { allowed: true, state: "closed", retryAfterMs: 0, probe: false } };
  }
  if (status === "open") {
    const retryAfterMs = remainingOpenMs(state, now, settings);
    return { state, admission: { allowed: false, state: "open", retryAfterMs, probe: false } };
  }
  const probeBusy = state.probeStartedAt !== null && now - state.probeStartedAt < probeLeaseMs(settings);
  if (probeBusy) {
    return {
      state: { ...state, status: "half-open" },
      admission: { allowed: false, state: "half-open", retryAfterMs: HALF_OPEN_BUSY_RETRY_MS, probe: false },
    };
  }
  return {
    state: { ...state, status: "half-open", probeStartedAt: now },
    admission: { allowed: true, state: "half-open", retryAfterMs: 0, probe: true },
  };
}

/**
 * Applies a call's outcome. Reports of calls admitted before the breaker opened (probe
 * false while not closed) are stale and change nothing: only the probe decides half-open.
 */
export function record(
  state: BreakerState,
  outcome: CallOutcome,
  probe: boolean,
  now: number,
  settings: BreakerSettings,
): BreakerState {
  const status = statusAt(state, now, settings);
  const isFailure = outcome === "failure" || outcome === "timeout";
  if (status === "closed") {
    if (outcome === "success") return { ...state, consecutiveFailures: 0 };
    if (!isFailure) return state;
    const consecutiveFailures = state.consecutiveFailures + 1;
    if (consecutiveFailures >= settings.failureThreshold) {
      return { status: "open", consecutiveFailures, openedAt: now, probeStartedAt: null };
    }
    return { ...state, consecutiveFailures };
  }
  if (!probe || status !== "half-open") return state;
  if (outcome === "success") return initialBreaker();
  if (isFailure) return { status: "open", consecutiveFailures: state.consecutiveFailures + 1, openedAt: now, probeStartedAt: null };
  // A 4xx answer to the probe says nothing either way: free the slot so the next call probes.
  return releaseProbe(state);
}

/** Frees the probe slot of a probe that was admitted but never ran. */
export function releaseProbe(state: BreakerState): BreakerState {
  return state.probeStartedAt === null ? state : { ...state, probeStartedAt: null };
}
