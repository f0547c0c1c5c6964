/**
 * Everything one dependency's circuit keeps: breaker, retry budget, counters and latency
 * reservoir, as one plain serialisable value. The Circuit Durable Object persists it; the
 * transitions live here so they are tested without a runtime.
 */
import {
  type Admission,
  type BreakerSettings,
  type BreakerState,
  type BreakerStatus,
  type CallOutcome,
  admit,
  initialBreaker,
  record,
  releaseProbe,
  remainingOpenMs,
  statusAt,
} from "./breaker";
import { addSample, emptyReservoir, type LatencyReservoir, type LatencySummary, summarize } from "./latency";
import { type RetryBudgetSettings, type RetryBudgetState, type RetryKind, initialBudget, refund, spend } from "./retry-budget";

export interface CircuitPolicy {
  breaker: BreakerSettings;
  budget: RetryBudgetSettings;
}

export interface CircuitCounters {
  /** Guarded calls that ran and were reported. */
  calls: number;
  successes: number;
  failures: number;
  timeouts: number;
  clientErrors: number;
  /** Calls turned away without running, by the object or by an isolate's cached view. */
  rejections: number;
  /** Times the breaker went to open. */
  opened: number;
  retriesAllowed: number;
  retriesDenied: number;
}

export interface CircuitState {
  key: string;
  breaker: BreakerState;
  budget: RetryBudgetState;
  counters: CircuitCounters;
  latency: LatencyReservoir;
  /** Last status change, for operators. */
  changedAt: number | null;
}

export interface OutcomeReport {
  outcome: CallOutcome;
  latencyMs: number;
  probe: boolean;
}

/** What an isolate needs to update its cached view after talking to the object. */
export interface BreakerView {
  state: BreakerStatus;
  retryAfterMs: number;
}

export interface CircuitSnapshot {
  key: string;
  state: BreakerStatus;
  consecutiveFailures: number;
  openedAt: string | null;
  changedAt: string | null;
  retryAfterMs: number;
  counters: CircuitCounters;
  latencyMs: LatencySummary;
  retryBudget: { tokens: number; maxTokens: number };
}

const zeroCounters = (): CircuitCounters => ({
  calls: 0,
  successes: 0,
  failures: 0,
  timeouts: 0,
  clientErrors: 0,
  rejections: 0,
  opened: 0,
  retriesAllowed: 0,
  retriesDenied: 0,
});

export function initialCircuit(key: string, policy: CircuitPolicy): CircuitState {
  return {
    key,
    breaker: initialBreaker(),
    budget: initialBudget(policy.budget),
    counters: zeroCounters(),
    latency: emptyReservoir(),
    changedAt: null,
  };
}

function withStatusChange(before: CircuitState, breaker: BreakerState, now: number): Pick<CircuitState, "breaker" | "changedAt"> {
  return { breaker, changedAt: breaker.status !== before.breaker.status ? now : before.changedAt };
}

/** `localRejections` are rejections isolates made from their cache since they last asked. */
export function admitCall(
  state: CircuitState,
  now: number,
  policy: CircuitPolicy,
  localRejections = 0,
): { state: CircuitState; admission: Admission } {
  const decided = admit(state.breaker, now, policy.breaker);
  const rejections = state.counters.rejections + Math.max(0, localRejections) + (decided.admission.allowed ? 0 : 1);
  return {
    state: { ...state, ...withStatusChange(state, decided.state, now), counters: { ...state.counters, rejections } },
    admission: decided.admission,
  };
}

export function reportCall(state: CircuitState, report: OutcomeReport, now: number, policy: CircuitPolicy): CircuitState {
  const breaker = record(state.breaker, report.outcome, report.probe, now, policy.breaker);
  const c = state.counters;
  const counters: CircuitCounters = {
    ...c,
    calls: c.calls + 1,
    successes: c.successes + (report.outcome === "success" ? 1 : 0),
    failures: c.failures + (report.outcome === "failure" ? 1 : 0),
    timeouts: c.timeouts + (report.outcome === "timeout" ? 1 : 0),
    clientErrors: c.clientErrors + (report.outcome === "client-error" ? 1 : 0),
    opened: c.opened + (breaker.status === "open" && breaker.openedAt !== state.breaker.openedAt ? 1 : 0),
  };
  return {
    ...state,
    ...withStatusChange(state, breaker, now),
    counters,
    budget: report.outcome === "success" ? refund(state.budget, policy.budget) : state.budget,
    latency: addSample(state.latency, report.latencyMs),
  };
}

export function releaseCallProbe(state: CircuitState): CircuitState {
  return { ...state, breaker: releaseProbe(state.breaker) };
}

export function spendRetryToken(
  state: CircuitState,
  kind: RetryKind,
  policy: CircuitPolicy,
): { state: CircuitState; allowed: boolean } {
  const spent = spend(state.budget, kind, policy.budget);
  const counters = spent.allowed
    ? { ...state.counters, retriesAllowed: state.counters.retriesAllowed + 1 }
    : { ...state.counters, retriesDenied: state.counters.retriesDenied + 1 };
  return { state: { ...state, budget: spent.state, counters }, allowed: spent.allowed };
}

export function breakerView(state: CircuitState, now: number, policy: CircuitPolicy): BreakerView {
  return { state: statusAt(state.breaker, now, policy.breaker), retryAfterMs: remainingOpenMs(state.breaker, now, policy.breaker) };
}

export function snapshotOf(state: CircuitState, now: number, policy: CircuitPolicy): CircuitSnapshot {
  const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());
  return {
    key: state.key,
    ...breakerView(state, now, policy),
    consecutiveFailures: state.breaker.consecutiveFailures,
    openedAt: iso(state.breaker.openedAt),
    changedAt: iso(state.changedAt),
    counters: state.counters,
    latencyMs: summarize(state.latency),
    retryBudget: { tokens: Math.min(state.budget.tokens, policy.budget.maxTokens), maxTokens: policy.budget.maxTokens },
  };
}
