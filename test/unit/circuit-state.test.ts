import { describe, expect, it } from "vitest";
import {
  type CircuitPolicy,
  type CircuitState,
  admitCall,
  initialCircuit,
  releaseCallProbe,
  reportCall,
  snapshotOf,
  spendRetryToken,
} from "../../src/resilience/circuit-state";
import { CircuitOpenError, DependencyTimeoutError } from "../../src/resilience/errors";
import { circuitKeyProject, isCircuitKey, webhookCircuitKey } from "../../src/resilience/keys";
import { DEFAULT_POLICY, policyWith } from "../support/policy";

const policy: CircuitPolicy = DEFAULT_POLICY;
const T0 = Date.UTC(2026, 0, 1);

function failTimes(state: CircuitState, n: number, at = T0): CircuitState {
  let next = state;
  for (let i = 0; i < n; i++) next = reportCall(next, { outcome: "failure", latencyMs: 20, probe: false }, at, policy);
  return next;
}

describe("circuit state", () => {
  it("counts calls by outcome and keeps their latencies", () => {
    let state = initialCircuit("storage", policy);
    state = reportCall(state, { outcome: "success", latencyMs: 10, probe: false }, T0, policy);
    state = reportCall(state, { outcome: "failure", latencyMs: 30, probe: false }, T0, policy);
    state = reportCall(state, { outcome: "timeout", latencyMs: 500, probe: false }, T0, policy);
    state = reportCall(state, { outcome: "client-error", latencyMs: 5, probe: false }, T0, policy);
    const snapshot = snapshotOf(state, T0, policy);
    expect(snapshot.counters).toMatchObject({ calls: 4, successes: 1, failures: 1, timeouts: 1, clientErrors: 1, opened: 0 });
    expect(snapshot.latencyMs).toEqual({ samples: 4, p50: 10, p95: 500, p99: 500 });
    expect(snapshot.consecutiveFailures).toBe(2);
  });

  it("counts an opening once, and rejections including those made from isolate caches", () => {
    let state = failTimes(initialCircuit("storage", policy), 5);
    state = failTimes(state, 2);
    expect(state.counters.opened).toBe(1);
    expect(state.changedAt).toBe(T0);
    const rejected = admitCall(state, T0 + 1, policy, 3);
    expect(rejected.admission.allowed).toBe(false);
    expect(rejected.state.counters.rejections).toBe(4);
  });

  it("refunds a retry token per success and records retries allowed and denied", () => {
    let state = initialCircuit("sqs", policyWith({ budget: { maxTokens: 12 } }));
    const small = policyWith({ budget: { maxTokens: 12 } });
    const first = spendRetryToken(state, "timeout", small);
    expect(first.allowed).toBe(true);
    const second = spendRetryToken(first.state, "retry", small);
    expect(second.allowed).toBe(false);
    state = reportCall(second.state, { outcome: "success", latencyMs: 1, probe: false }, T0, small);
    expect(state.budget.tokens).toBe(3);
    expect(state.counters).toMatchObject({ retriesAllowed: 1, retriesDenied: 1 });
    expect(snapshotOf(state, T0, small).retryBudget).toEqual({ tokens: 3, maxTokens: 12 });
  });

  it("shows half-open, the probe and its release in snapshots", () => {
    const open = failTimes(initialCircuit("storage", policy), 5);
    expect(snapshotOf(open, T0 + 1000, policy)).toMatchObject({ state: "open", retryAfterMs: 59_000, openedAt: new Date(T0).toISOString() });
    const probing = admitCall(open, T0 + 60_000, policy);
    expect(probing.admission.probe).toBe(true);
    expect(admitCall(probing.state, T0 + 60_001, policy).admission.allowed).toBe(false);
    const released = releaseCallProbe(probing.state);
    expect(admitCall(released, T0 + 60_002, policy).admission.probe).toBe(true);
    const closed = reportCall(probing.state, { outcome: "success", latencyMs: 3, probe: true }, T0 + 60_010, policy);
    expect(snapshotOf(closed, T0 + 60_010, policy)).toMatchObject({
      state: "closed",
      changedAt: new Date(T0 + 60_010).toISOString(),
      counters: { opened: 1 },
    });
  });

  it("survives a JSON round trip unchanged", () => {
    const state = failTimes(initialCircuit("webhook:p1:hooks.example.com", policy), 3);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe("circuit keys and errors", () => {
  it("accepts the fixed keys and one key per project and webhook host", () => {
    for (const key of ["storage", "sqs", "processor", "webhook:p1:hooks.example.com", "webhook:p_2-x:a.example:8443"]) {
      expect(isCircuitKey(key)).toBe(true);
    }
    for (const key of ["", "registry", "webhook:", "webhook:hooks.example.com", "webhook:p1:UPPER.example", "webhook:p.1:a.example", "storage2"]) {
      expect(isCircuitKey(key), key).toBe(false);
    }
    expect(webhookCircuitKey("p1", "https://Hooks.Example.com/path?q=1")).toBe("webhook:p1:hooks.example.com");
    for (const url of ["https://my_hooks.example.com/", "http://[::1]:8443/hook", "http://127.0.0.1:4000/hooks/a"]) {
      expect(isCircuitKey(webhookCircuitKey("p1", url)), url).toBe(true);
    }
  });

  it("gives two projects with the same receiver host breakers of their own", () => {
    const url = "https://hooks.shared.example/ifc";
    expect(webhookCircuitKey("tenant-a", url)).not.toBe(webhookCircuitKey("tenant-b", url));
    expect(circuitKeyProject(webhookCircuitKey("tenant-a", url))).toBe("tenant-a");
    expect(circuitKeyProject("storage")).toBeUndefined();
  });

  it("carry what a client needs to know", () => {
    const open = new CircuitOpenError("storage", 1500);
    expect(open).toMatchObject({ name: "CircuitOpenError", key: "storage", retryAfterMs: 1500, state: "open" });
    expect(new DependencyTimeoutError("sqs", 100).message).toBe("sqs did not answer within 100 ms");
  });
});
