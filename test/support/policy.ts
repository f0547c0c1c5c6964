import { loadConfig } from "../../src/config";
import type { BreakerSettings } from "../../src/resilience/breaker";
import type { CircuitPolicy } from "../../src/resilience/circuit-state";
import type { RetryBudgetSettings } from "../../src/resilience/retry-budget";
import { TEST_JWT_SECRET } from "./constants";

/** The settings of a deployment that sets only what it must: the secret, and a store that needs no binding. */
export const MINIMAL_SETTINGS = { AUTH_JWT_SECRET: TEST_JWT_SECRET, STORAGE_DRIVER: "memory" } as const;

/** Its configuration: every other setting at its default. */
export const defaultConfig = () => loadConfig(MINIMAL_SETTINGS);

/**
 * The breaker and retry-budget policy the service runs with when nothing is configured, read
 * through the config as the app and the job objects read it. The test environment keeps these
 * defaults (wrangler.toml [env.test] sets none of them; test/unit/resilience-defaults checks it).
 */
export const DEFAULT_POLICY: CircuitPolicy = {
  breaker: defaultConfig().resilience.breaker,
  budget: defaultConfig().resilience.retryBudget,
};

/** The default policy with some settings changed, e.g. a short reset for a test that waits for it. */
export function policyWith(changes: { breaker?: Partial<BreakerSettings>; budget?: Partial<RetryBudgetSettings> }): CircuitPolicy {
  return {
    breaker: { ...DEFAULT_POLICY.breaker, ...changes.breaker },
    budget: { ...DEFAULT_POLICY.budget, ...changes.budget },
  };
}
