import { z } from "zod";
import type { Env } from "./env";
import { FAILURE_CODES, type FailureCode } from "./processing/processor";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const environmentSchema = z.enum(["production", "development", "test"]);

const configSchema = z
  .object({
    ENVIRONMENT: environmentSchema,
    STORAGE_DRIVER: z.enum(["r2", "memory"]).optional(),
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(5 * GiB),
    AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    PROCESSOR: z.enum(["web-ifc", "mock"]).default("web-ifc"),
    // Below 48 MiB web-ifc cannot hold even a small model next to its own code.
    PROCESSING_MEMORY_BYTES: z.coerce.number().int().min(48 * MiB).default(96 * MiB),
    PROCESSING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    PROCESSING_RETRY_BASE_MS: z.coerce.number().int().positive().default(2_000),
    PROCESSING_RETRY_CAP_MS: z.coerce.number().int().positive().default(5 * 60_000),
    // A moment's grace so the 202 leaves before a job object sharing the isolate starts
    // web-ifc, which holds the thread for seconds on a large model.
    PROCESSING_START_DELAY_MS: z.coerce.number().int().nonnegative().default(1_000),
    PROCESSING_TIMEOUT_MS: z.coerce.number().int().positive().default(5 * 60_000),
    MOCK_PROCESSOR_OUTCOME: z.enum(["succeed", ...FAILURE_CODES]).default("succeed"),
    MOCK_PROCESSOR_DELAY_MS: z.coerce.number().int().nonnegative().default(0),
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
  processing: ProcessingConfig;
}

export interface ProcessingConfig {
  processor: "web-ifc" | "mock";
  /** Budget for the WASM heap of one job; sizes web-ifc's buffers and the largest model taken. */
  memoryBytes: number;
  /** Attempts in all, the first included, before a transient failure becomes final. */
  maxAttempts: number;
  retry: { baseMs: number; capMs: number };
  /** Wait between an accepted upload and the first attempt (tests set it high and drive alarms). */
  startDelayMs: number;
  /** An attempt still unfinished after this long is treated as lost (isolate killed, limit hit). */
  timeoutMs: number;
  mock: { outcome: "succeed" | FailureCode; delayMs: number };
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
    PROCESSOR: blankToUndefined(env.PROCESSOR),
    PROCESSING_MEMORY_BYTES: blankToUndefined(env.PROCESSING_MEMORY_BYTES),
    PROCESSING_MAX_ATTEMPTS: blankToUndefined(env.PROCESSING_MAX_ATTEMPTS),
    PROCESSING_RETRY_BASE_MS: blankToUndefined(env.PROCESSING_RETRY_BASE_MS),
    PROCESSING_RETRY_CAP_MS: blankToUndefined(env.PROCESSING_RETRY_CAP_MS),
    PROCESSING_START_DELAY_MS: blankToUndefined(env.PROCESSING_START_DELAY_MS),
    PROCESSING_TIMEOUT_MS: blankToUndefined(env.PROCESSING_TIMEOUT_MS),
    MOCK_PROCESSOR_OUTCOME: blankToUndefined(env.MOCK_PROCESSOR_OUTCOME),
    MOCK_PROCESSOR_DELAY_MS: blankToUndefined(env.MOCK_PROCESSOR_DELAY_MS),
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
    processing: {
      processor: value.PROCESSOR,
      memoryBytes: value.PROCESSING_MEMORY_BYTES,
      maxAttempts: value.PROCESSING_MAX_ATTEMPTS,
      retry: { baseMs: value.PROCESSING_RETRY_BASE_MS, capMs: value.PROCESSING_RETRY_CAP_MS },
      startDelayMs: value.PROCESSING_START_DELAY_MS,
      timeoutMs: value.PROCESSING_TIMEOUT_MS,
      mock: { outcome: value.MOCK_PROCESSOR_OUTCOME, delayMs: value.MOCK_PROCESSOR_DELAY_MS },
    },
  };
}
