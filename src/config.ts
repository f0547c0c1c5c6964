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
  };
}
