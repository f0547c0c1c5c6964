import { z } from "zod";
import { defineSettings } from "../lib/settings";
import { DEFAULT_BREAKER_SETTINGS } from "../resilience/breaker";
import { DEFAULT_RETRY_BUDGET } from "../resilience/retry-budget";

export interface ResilienceConfig {
  breaker: { failureThreshold: number; resetMs: number };
  /** Costs are the AWS SDK "standard" mode's; only the bucket size is a setting. */
  retryBudget: { maxTokens: number; retryCost: number; timeoutCost: number; successRefund: number };
  /**
   * Deadline of one wait on storage, after which it counts as a timeout: during an upload, for
   * storage to take the next block or to finish after the last byte (never the client's time);
   * for a job, its storage call.
   */
  storageTimeoutMs: number;
}

/** Circuit breakers, retry budgets and dependency deadlines. */
export const circuitSettings = defineSettings({
  shape: {
    BREAKER_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(DEFAULT_BREAKER_SETTINGS.failureThreshold),
    BREAKER_RESET_MS: z.coerce.number().int().min(1).max(24 * 60 * 60 * 1000).default(DEFAULT_BREAKER_SETTINGS.resetMs),
    RETRY_BUDGET_TOKENS: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_RETRY_BUDGET.maxTokens),
    STORAGE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60 * 60 * 1000).default(600_000),
  },
  build: (value): { resilience: ResilienceConfig } => ({
    resilience: {
      breaker: { failureThreshold: value.BREAKER_FAILURE_THRESHOLD, resetMs: value.BREAKER_RESET_MS },
      retryBudget: { ...DEFAULT_RETRY_BUDGET, maxTokens: value.RETRY_BUDGET_TOKENS },
      storageTimeoutMs: value.STORAGE_TIMEOUT_MS,
    },
  }),
});
