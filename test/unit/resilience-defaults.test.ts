import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { DEFAULT_POLICY, MINIMAL_SETTINGS, defaultConfig } from "../support/policy";

describe("resilience defaults", () => {
  it("opens a breaker after 5 consecutive failures and half-opens it after 60 s when nothing is configured", () => {
    expect(defaultConfig().resilience.breaker).toEqual({ failureThreshold: 5, resetMs: 60_000 });
  });

  it("gives each dependency a budget of 500 tokens: 5 a retry, 10 a retry after a timeout, 1 back per success", () => {
    expect(defaultConfig().resilience.retryBudget).toEqual({ maxTokens: 500, retryCost: 5, timeoutCost: 10, successRefund: 1 });
  });

  it("gives a storage write 10 minutes before it counts as a timeout", () => {
    expect(defaultConfig().resilience.storageTimeoutMs).toBe(600_000);
  });

  it("runs the test environment with the defaults, so the shared test policy is the one the app uses", () => {
    const resilience = loadConfig(env).resilience;
    expect({ breaker: resilience.breaker, budget: resilience.retryBudget }).toEqual(DEFAULT_POLICY);
  });

  it("takes the breaker and budget settings from the environment", () => {
    const config = loadConfig({ ...MINIMAL_SETTINGS, BREAKER_FAILURE_THRESHOLD: "3", BREAKER_RESET_MS: "1500", RETRY_BUDGET_TOKENS: "40" });
    expect(config.resilience.breaker).toEqual({ failureThreshold: 3, resetMs: 1500 });
    expect(config.resilience.retryBudget).toEqual({ maxTokens: 40, retryCost: 5, timeoutCost: 10, successRefund: 1 });
  });
});

