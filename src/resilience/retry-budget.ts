/**
 * Retry budget as a token bucket, in the style of the AWS SDK "standard" retry mode:
 * retries spend tokens, successes earn one back, and an empty bucket means no retry.
 * It bounds how much extra load retries can put on a dependency that is already failing.
 * Pure and time-free: the bucket refills by successes, not by the clock.
 */

export type RetryKind = "retry" | "timeout";

export interface RetryBudgetSettings {
  maxTokens: number;
  retryCost: number;
  timeoutCost: number;
  successRefund: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetSettings = { maxTokens: 500, retryCost: 5, timeoutCost: 10, successRefund: 1 };

export interface RetryBudgetState {
  tokens: number;
}

export function initialBudget(settings: RetryBudgetSettings): RetryBudgetState {
  return { tokens: settings.maxTokens };
}

export const retryCost = (kind: RetryKind, settings: RetryBudgetSettings): number =>
  kind === "timeout" ? settings.timeoutCost : settings.retryCost;

/** Takes the cost of one retry if the bucket holds it; otherwise the retry is refused and nothing is taken. */
export function spend(
  state: RetryBudgetState,
  kind: RetryKind,
  settings: RetryBudgetSettings,
): { state: RetryBudgetState; allowed: boolean } {
  const cost = retryCost(kind, settings);
  // A lowered maximum applies at once, so a bucket never holds more than the current setting.
  const tokens = Math.min(state.tokens, settings.maxTokens);
  if (tokens < cost) return { state: { tokens }, allowed: false };
  return { state: { tokens: tokens - cost }, allowed: true };
}

export function refund(state: RetryBudgetState, settings: RetryBudgetSettings): RetryBudgetState {
  return { tokens: Math.min(settings.maxTokens, state.tokens + settings.successRefund) };
}
