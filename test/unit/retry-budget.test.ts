import { describe, expect, it } from "vitest";
import { type RetryBudgetState, initialBudget, refund, spend } from "../../src/resilience/retry-budget";
import { DEFAULT_POLICY } from "../support/policy";

/** The production default (500 tokens; 5, 10, 1 back), read through the config. */
const settings = DEFAULT_POLICY.budget;

describe("retry budget", () => {
  it("starts full", () => {
    expect(initialBudget(settings)).toEqual({ tokens: 500 });
  });

  it("charges 5 for a retry and 10 for a retry after a timeout", () => {
    const afterRetry = spend(initialBudget(settings), "retry", settings);
    expect(afterRetry).toEqual({ state: { tokens: 495 }, allowed: true });
    expect(spend(afterRetry.state, "timeout", settings)).toEqual({ state: { tokens: 485 }, allowed: true });
  });

  it("allows exactly 100 retries from a full bucket, then none", () => {
    let state: RetryBudgetState = initialBudget(settings);
    let allowed = 0;
    for (let i = 0; i < 150; i++) {
      const result = spend(state, "retry", settings);
      state = result.state;
      if (result.allowed) allowed++;
    }
    expect(allowed).toBe(100);
    expect(state.tokens).toBe(0);
  });

  it("refuses a timeout retry when fewer than 10 tokens are left, without taking any", () => {
    const result = spend({ tokens: 9 }, "timeout", settings);
    expect(result).toEqual({ state: { tokens: 9 }, allowed: false });
    expect(spend({ tokens: 9 }, "retry", settings).allowed).toBe(true);
  });

  it("refunds one token per success, never above the maximum", () => {
    expect(refund({ tokens: 0 }, settings)).toEqual({ tokens: 1 });
    expect(refund({ tokens: 500 }, settings)).toEqual({ tokens: 500 });
  });

  it("allows a retry again once successes have refunded its cost", () => {
    let state: RetryBudgetState = { tokens: 0 };
    expect(spend(state, "retry", settings).allowed).toBe(false);
    for (let i = 0; i < 5; i++) state = refund(state, settings);
    expect(spend(state, "retry", settings)).toEqual({ state: { tokens: 0 }, allowed: true });
  });

  it("applies a lowered maximum to a fuller bucket at once", () => {
    const small = { ...settings, maxTokens: 20 };
    expect(spend({ tokens: 500 }, "retry", small).state).toEqual({ tokens: 15 });
  });

  it("never retries with a budget of zero tokens", () => {
    const none = { ...settings, maxTokens: 0 };
    expect(spend(initialBudget(none), "retry", none).allowed).toBe(false);
  });
});
