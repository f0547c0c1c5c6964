import { z } from "zod";
import type { Env } from "./env";
import type { SqsSettings } from "./notify/sqs";
import { DEFAULT_SCHEDULE_MS, parseSchedule } from "./notify/schedule";

const GiB = 1024 ** 3;

const environmentSchema = z.enum(["production", "development", "test"]);
const httpUrl = z.url({ protocol: /^https?$/, message: "must be an http(s) URL" });

const configSchema = z
  .object({
    ENVIRONMENT: environmentSchema,
    STORAGE_DRIVER: z.enum(["r2", "memory"]).optional(),
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(5 * GiB),
    AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    hasR2Binding: z.boolean(),
    SQS_QUEUE_URL: httpUrl.optional(),
    SQS_ENDPOINT: httpUrl.optional(),
    AWS_REGION: z.string().regex(/^[a-z0-9-]+$/, "must be an AWS region such as eu-central-1").optional(),
    AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
    AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    WEBHOOK_DNS_RESOLVER: z.enum(["doh", "off"]).optional(),
    WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"], { message: "must be true or false" }).optional(),
    NOTIFY_SCHEDULE_MS: z
      .string()
      .transform((text, ctx) => {
        const schedule = parseSchedule(text);
        if (schedule.ok) return schedule.value;
        ctx.addIssue({ code: "custom", message: schedule.error });
        return z.NEVER;
      })
      .optional(),
    hasEventsQueue: z.boolean(),
  })
  .superRefine((value, ctx) => {
    const driver = value.STORAGE_DRIVER ?? defaultDriver(value.ENVIRONMENT);
    if (driver === "r2" && !value.hasR2Binding) {
      ctx.addIssue({ code: "custom", path: ["MODELS"], message: "R2 binding MODELS is required when STORAGE_DRIVER=r2" });
    }
    if (value.SQS_QUEUE_URL !== undefined) {
      for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const) {
        if (value[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required when SQS_QUEUE_URL is set" });
      }
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
  notify: NotifyConfig;
}

export interface NotifyConfig {
  /** SendMessage target; null when SQS_QUEUE_URL is not set. */
  sqs: SqsSettings | null;
  webhook: {
    /** Lets http, any port, loopback and private addresses through, for local receivers. */
    allowPrivate: boolean;
    /** How webhook host names are resolved before the SSRF check: DNS-over-HTTPS or not at all. */
    dnsResolver: "doh" | "off";
  };
  /** Whether the EVENTS_QUEUE Cloudflare Queue binding is present. */
  queue: boolean;
  /** Attempt offsets in ms from the first attempt. */
  scheduleMs: readonly number[];
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
    SQS_QUEUE_URL: blankToUndefined(env.SQS_QUEUE_URL),
    SQS_ENDPOINT: blankToUndefined(env.SQS_ENDPOINT),
    AWS_REGION: blankToUndefined(env.AWS_REGION),
    AWS_ACCESS_KEY_ID: blankToUndefined(env.AWS_ACCESS_KEY_ID),
    AWS_SECRET_ACCESS_KEY: blankToUndefined(env.AWS_SECRET_ACCESS_KEY),
    WEBHOOK_DNS_RESOLVER: blankToUndefined(env.WEBHOOK_DNS_RESOLVER),
    WEBHOOK_ALLOW_PRIVATE: blankToUndefined(env.WEBHOOK_ALLOW_PRIVATE),
    NOTIFY_SCHEDULE_MS: blankToUndefined(env.NOTIFY_SCHEDULE_MS),
    hasEventsQueue: env.EVENTS_QUEUE !== undefined,
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
    notify: {
      sqs: sqsSettings(value),
      webhook: {
        // Local receivers (wrangler dev, tests) listen on http://127.0.0.1; production never may.
        allowPrivate: (value.WEBHOOK_ALLOW_PRIVATE ?? String(value.ENVIRONMENT !== "production")) === "true",
        // Tests must not send DNS queries out of the machine.
        dnsResolver: value.WEBHOOK_DNS_RESOLVER ?? (value.ENVIRONMENT === "test" ? "off" : "doh"),
      },
      queue: value.hasEventsQueue,
      scheduleMs: value.NOTIFY_SCHEDULE_MS ?? DEFAULT_SCHEDULE_MS,
    },
  };
}

function sqsSettings(value: z.output<typeof configSchema>): SqsSettings | null {
  const { SQS_QUEUE_URL: queueUrl, AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = value;
  if (queueUrl === undefined || region === undefined || accessKeyId === undefined || secretAccessKey === undefined) return null;
  return { queueUrl, region, accessKeyId, secretAccessKey, ...(value.SQS_ENDPOINT === undefined ? {} : { endpoint: value.SQS_ENDPOINT }) };
}

