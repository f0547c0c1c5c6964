import { z } from "zod";
import type { Env } from "./env";

const GiB = 1024 ** 3;

const environmentSchema = z.enum(["production", "development", "test"]);

const configSchema = z
  .object({
    ENVIRONMENT: environmentSchema,
    STORAGE_DRIVER: z.enum(["r2", "memory"]).optional(),
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(5 * GiB),
    AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    BREAKER_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
    BREAKER_RESET_MS: z.coerce.number().int().min(1).max(24 * 60 * 60 * 1000).default(60_000),
    RETRY_BUDGET_TOKENS: z.coerce.number().int().min(0).max(1_000_000).default(500),
    STORAGE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60 * 60 * 1000).default(600_000),
    hasR2Binding: z.boolean(),
  })
  .superRefine((value, ctx) => {
    const driver = value.STORAGE_DRIVER ?? defaultDriver(value.ENVIRONMENT);
    if (driver === "r2" && !value.hasR2Binding) {
      ctx.addIssue({ code: "custom", path: ["MODELS"], message: "R2 binding MODELS is required when STORAGE_DRIVER=r2" });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  environment: Environment;
  storageDriver: "r2" | "memory";
  maxUploadBytes: number;
  authJwtSecret: string;
  logLevel: LogLevel;
  resilience: ResilienceConfig;
}

export interface ResilienceConfig {
  breaker: { failureThreshold: number; resetMs: number };
  /** Costs are the AWS SDK "standard" mode's; only the bucket size is a setting. */
  retryBudget: { maxTokens: number; retryCost: number; timeoutCost: number; successRefund: number };
  /** Deadline for one storage write (a whole streamed upload), after which it counts as a timeout. */
  storageTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

function defaultDriver(environment: Environment): "r2" | "memory" {
  return environment === "test" ? "memory" : "r2";
}

const blankToUndefined = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value;

/** Validates every setting at once so one message names everything that is wrong. */
export function loadConfig(env: Env): Config {
  const parsed = configSchema.safeParse({
    ENVIRONMENT: blankToUndefined(env.ENVIRONMENT) ?? "production",
    STORAGE_DRIVER: blankToUndefined(env.STORAGE_DRIVER),
    MAX_UPLOAD_BYTES: blankToUndefined(env.MAX_UPLOAD_BYTES),
    AUTH_JWT_SECRET: env.AUTH_JWT_SECRET,
    LOG_LEVEL: blankToUndefined(env.LOG_LEVEL),
    BREAKER_FAILURE_THRESHOLD: blankToUndefined(env.BREAKER_FAILURE_THRESHOLD),
    BREAKER_RESET_MS: blankToUndefined(env.BREAKER_RESET_MS),
    RETRY_BUDGET_TOKENS: blankToUndefined(env.RETRY_BUDGET_TOKENS),
    STORAGE_TIMEOUT_MS: blankToUndefined(env.STORAGE_TIMEOUT_MS),
    hasR2Binding: env.MODELS !== undefined,
  });
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`),
    );
  }
  const value = parsed.data;
  return {
    environment: value.ENVIRONMENT,
    storageDriver: value.STORAGE_DRIVER ?? defaultDriver(value.ENVIRONMENT),
    maxUploadBytes: value.MAX_UPLOAD_BYTES,
    authJwtSecret: value.AUTH_JWT_SECRET,
    logLevel: value.LOG_LEVEL,
    resilience: {
      breaker: { failureThreshold: value.BREAKER_FAILURE_THRESHOLD, resetMs: value.BREAKER_RESET_MS },
      retryBudget: { maxTokens: value.RETRY_BUDGET_TOKENS, retryCost: 5, timeoutCost: 10, successRefund: 1 },
      storageTimeoutMs: value.STORAGE_TIMEOUT_MS,
    },
  };
}
