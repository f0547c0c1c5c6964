import { describe, expect, it } from "vitest";
import type { BreakerSettings } from "../../src/resilience/breaker";
import {
  CIRCUIT_CACHE_MS,
  type LocalView,
  countLocalRejection,
  decideLocally,
  viewAfterOutcome,
  viewFromObject,
} from "../../src/resilience/local-view";
import { DEFAULT_POLICY } from "../support/policy";

const settings: BreakerSettings = DEFAULT_POLICY.breaker;
const T0 = 1_000_000;

describe("an isolate's cached breaker view", () => {
  it("asks the object when it has no view or the view is a second old", () => {
    expect(CIRCUIT_CACHE_MS).toBe(1000);
    expect(decideLocally(undefined, T0)).toEqual({ kind: "ask" });
    const closed = viewFromObject(undefined, { state: "closed", retryAfterMs: 0 }, T0);
    expect(decideLocally(closed, T0 + 999)).toEqual({ kind: "allow" });
    expect(decideLocally(closed, T0 + 1000)).toEqual({ kind: "ask" });
    expect(decideLocally(closed, T0 - 1)).toEqual({ kind: "ask" });
  });

  it("rejects from the cache while the object said open", () => {
    const open = viewFromObject(undefined, { state: "open", retryAfterMs: 30_000 }, T0);
    expect(decideLocally(open, T0 + 500)).toEqual({ kind: "reject", retryAfterMs: 29_500, state: "open" });
    expect(countLocalRejection(countLocalRejection(open)).pendingRejections).toBe(2);
  });

  it("asks the object in half-open, since only it may hand out the probe", () => {
    const halfOpen = viewFromObject(undefined, { state: "half-open", retryAfterMs: 0 }, T0);
    expect(decideLocally(halfOpen, T0 + 1)).toEqual({ kind: "ask" });
  });

  it("opens locally at once when this isolate saw the threshold of consecutive failures", () => {
    let view: LocalView | undefined;
    for (let i = 0; i < 4; i++) view = viewAfterOutcome(view, "failure", T0, settings);
    expect(view?.status).toBe("closed");
    expect(decideLocally(view, T0)).toEqual({ kind: "ask" });
    view = viewAfterOutcome(view, "timeout", T0 + 5, settings);
    expect(view).toMatchObject({ status: "open", retryUntil: T0 + 5 + 60_000 });
    expect(decideLocally(view, T0 + 6)).toMatchObject({ kind: "reject", state: "open" });
  });

  it("forgets local failures after a success and ignores client errors", () => {
    let view = viewFromObject(undefined, { state: "closed", retryAfterMs: 0 }, T0);
    view = viewAfterOutcome(view, "failure", T0, settings) ?? view;
    expect(viewAfterOutcome(view, "client-error", T0, settings)).toBe(view);
    expect(viewAfterOutcome(view, "success", T0, settings)?.localFailures).toBe(0);
    expect(viewAfterOutcome(undefined, "success", T0, settings)).toBeUndefined();
  });

  it("keeps local failures while the object still says closed", () => {
    const view = viewAfterOutcome(undefined, "failure", T0, settings);
    expect(viewFromObject(view, { state: "closed", retryAfterMs: 0 }, T0 + 1).localFailures).toBe(1);
  });

  it("does not let a slow answer to an older question undo a local opening", () => {
    let view: LocalView | undefined;
    for (let i = 0; i < 5; i++) view = viewAfterOutcome(view, "failure", T0 + 10, settings);
    const stale = viewFromObject(view, { state: "closed", retryAfterMs: 0 }, T0 + 20, T0 + 5);
    expect(stale).toBe(view);
    const fresh = viewFromObject(view, { state: "open", retryAfterMs: 59_000 }, T0 + 20, T0 + 10);
    expect(fresh).toMatchObject({ status: "open", fetchedAt: T0 + 20, retryUntil: T0 + 20 + 59_000 });
  });
});
