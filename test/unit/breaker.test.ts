import { describe, expect, it } from "vitest";
import {
  type BreakerSettings,
  type BreakerState,
  HALF_OPEN_BUSY_RETRY_MS,
  admit,
  initialBreaker,
  record,
  releaseProbe,
  remainingOpenMs,
  statusAt,
} from "../../src/resilience/breaker";
import { DEFAULT_POLICY } from "../support/policy";

/** The production default (5 failures, 60 s; test/unit/resilience-defaults), read through the config. */
const settings: BreakerSettings = DEFAULT_POLICY.breaker;
const T0 = 1_700_000_000_000;

function fail(state: BreakerState, times: number, at = T0): BreakerState {
  let next = state;
  for (let i = 0; i < times; i++) next = record(next, "failure", false, at, settings);
  return next;
}

/** Opened at T0 by five failures. */
const opened = (): BreakerState => fail(initialBreaker(), 5);

describe("circuit breaker state machine", () => {
  it("admits calls while closed", () => {
    const { admission } = admit(initialBreaker(), T0, settings);
    expect(admission).toEqual({ allowed: true, state: "closed", retryAfterMs: 0, probe: false });
  });

  it("stays closed after four consecutive failures", () => {
    const state = fail(initialBreaker(), 4);
    expect(statusAt(state, T0, settings)).toBe("closed");
    expect(state.consecutiveFailures).toBe(4);
    expect(admit(state, T0, settings).admission.allowed).toBe(true);
  });

  it("opens after exactly five consecutive failures", () => {
    const state = fail(initialBreaker(), 5);
    expect(state).toEqual({ status: "open", consecutiveFailures: 5, openedAt: T0, probeStartedAt: null });
    expect(admit(state, T0, settings).admission).toEqual({ allowed: false, state: "open", retryAfterMs: 60_000, probe: false });
  });

  it("counts timeouts as failures", () => {
    let state = initialBreaker();
    for (let i = 0; i < 5; i++) state = record(state, "timeout", false, T0, settings);
    expect(state.status).toBe("open");
  });

  it("starts counting again after a success", () => {
    const state = fail(record(fail(initialBreaker(), 4), "success", false, T0, settings), 4);
    expect(state.status).toBe("closed");
    expect(state.consecutiveFailures).toBe(4);
  });

  it("neither counts nor forgives a client error", () => {
    const state = fail(record(fail(initialBreaker(), 4), "client-error", false, T0, settings), 1);
    expect(state.status).toBe("open");
    expect(record(initialBreaker(), "client-error", false, T0, settings)).toEqual(initialBreaker());
  });

  it("honours a configured threshold", () => {
    const two: BreakerSettings = { failureThreshold: 2, resetMs: 1000 };
    const once = record(initialBreaker(), "failure", false, T0, two);
    expect(once.status).toBe("closed");
    expect(record(once, "failure", false, T0, two).status).toBe("open");
  });

  it("is still open at 59999 ms and half-open at exactly 60000 ms", () => {
    const state = opened();
    expect(statusAt(state, T0 + 59_999, settings)).toBe("open");
    expect(admit(state, T0 + 59_999, settings).admission).toEqual({ allowed: false, state: "open", retryAfterMs: 1, probe: false });
    expect(statusAt(state, T0 + 60_000, settings)).toBe("half-open");
    expect(remainingOpenMs(state, T0 + 60_000, settings)).toBe(0);
    expect(admit(state, T0 + 60_000, settings).admission).toEqual({ allowed: true, state: "half-open", retryAfterMs: 0, probe: true });
  });

  it("counts down the time until it half-opens", () => {
    expect(remainingOpenMs(opened(), T0 + 15_000, settings)).toBe(45_000);
    expect(remainingOpenMs(initialBreaker(), T0, settings)).toBe(0);
  });

  it("admits one probe at a time in half-open and rejects a concurrent second", () => {
    const first = admit(opened(), T0 + 60_000, settings);
    expect(first.admission.probe).toBe(true);
    const second = admit(first.state, T0 + 60_001, settings);
    expect(second.admission).toEqual({ allowed: false, state: "half-open", retryAfterMs: HALF_OPEN_BUSY_RETRY_MS, probe: false });
    const third = admit(second.state, T0 + 60_002, settings);
    expect(third.admission.allowed).toBe(false);
  });

  it("closes when the probe succeeds", () => {
    const probing = admit(opened(), T0 + 60_000, settings).state;
    const closed = record(probing, "success", true, T0 + 60_010, settings);
    expect(closed).toEqual(initialBreaker());
    expect(admit(closed, T0 + 60_011, settings).admission.allowed).toBe(true);
  });

  it("opens again for a full reset period when the probe fails", () => {
    const probing = admit(opened(), T0 + 60_000, settings).state;
    const reopened = record(probing, "timeout", true, T0 + 60_500, settings);
    expect(reopened.status).toBe("open");
    expect(reopened.openedAt).toBe(T0 + 60_500);
    expect(statusAt(reopened, T0 + 120_499, settings)).toBe("open");
    expect(statusAt(reopened, T0 + 120_500, settings)).toBe("half-open");
  });

  it("frees the probe slot when the probe meets a client error", () => {
    const probing = admit(opened(), T0 + 60_000, settings).state;
    const after = record(probing, "client-error", true, T0 + 60_010, settings);
    expect(statusAt(after, T0 + 60_010, settings)).toBe("half-open");
    expect(admit(after, T0 + 60_011, settings).admission.probe).toBe(true);
  });

  it("ignores late reports of calls admitted before it opened", () => {
    const state = opened();
    expect(record(state, "success", false, T0 + 10, settings)).toEqual(state);
    expect(record(state, "failure", false, T0 + 10, settings)).toEqual(state);
    const probing = admit(state, T0 + 60_000, settings).state;
    expect(record(probing, "success", false, T0 + 60_001, settings)).toEqual(probing);
  });

  it("lets another caller probe when a probe never reports within the lease", () => {
    const probing = admit(opened(), T0 + 60_000, settings).state;
    expect(admit(probing, T0 + 119_999, settings).admission.allowed).toBe(false);
    const retaken = admit(probing, T0 + 120_000, settings);
    expect(retaken.admission).toMatchObject({ allowed: true, probe: true });
  });

  it("frees the probe slot of a probe that never ran", () => {
    const probing = admit(opened(), T0 + 60_000, settings).state;
    const released = releaseProbe(probing);
    expect(released.probeStartedAt).toBeNull();
    expect(admit(released, T0 + 60_001, settings).admission.probe).toBe(true);
    expect(releaseProbe(released)).toBe(released);
  });

  it("keeps its state as plain JSON", () => {
    const probing = admit(opened(), T0 + 60_000, settings).state;
    expect(JSON.parse(JSON.stringify(probing))).toEqual(probing);
  });
});
