import { z } from "zod";
import type { Env } from "./env";
import type { SqsSettings } from "./notify/sqs";
import { DEFAULT_SCHEDULE_MS, parseSchedule } from "./notify/schedule";
import { DEFAULT_UPLOAD_BUFFER_BYTES } from "./storage/buffer-budget";
import { R2_PART_SIZE } from "./storage/r2";
import { S3_DEFAULT_PART_SIZE, S3_DEFAULT_UPLOAD_CONCURRENCY, S3_MIN_PART_SIZE, type S3Settings } from "./storage/s3";
import { FAILURE_CODES, type FailureCode } from "./processing/processor";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const environmentSchema = z.enum(["production", "development", "test"]);
const storageDriverSchema = z.enum(["r2", "memory", "s3"]);
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const configSchema = z.object({
  ENVIRONMENT: environmentSchema,
  STORAGE_DRIVER: storageDriverSchema.optional(),
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(5 * GiB),
  UPLOAD_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(R2_PART_SIZE, `must be at least ${R2_PART_SIZE} bytes (8 MiB), one part`)
    .max(1024 * MiB)
    .default(DEFAULT_UPLOAD_BUFFER_BYTES),
  AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  // S3: formats are checked whenever a value is set; which ones are required depends on the driver.
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
    .optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  S3_FORCE_PATH_STYLE: z.enum(["true", "false"], { error: "must be true or false" }).default("false"),
  AWS_REGION: z.string().regex(/^[a-z0-9-]{2,32}$/, "must be a region name such as eu-central-1").optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  S3_PART_SIZE: z.coerce
    .number()
    .int()
    .min(S3_MIN_PART_SIZE, `must be at least ${S3_MIN_PART_SIZE} bytes (5 MiB), S3's smallest part`)
    .max(5 * GiB, "must be at most 5 GiB, S3's largest part")
    .default(S3_DEFAULT_PART_SIZE),
  S3_UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(S3_DEFAULT_UPLOAD_CONCURRENCY),
  S3_SSE: z.enum(["AES256", "aws:kms"], { error: "must be AES256 or aws:kms" }).default("AES256"),
  S3_SSE_KMS_KEY_ID: z.string().optional(),
  S3_SIGN_PAYLOAD: z.enum(["true", "false"], { error: "must be true or false" }).default("false"),
  SQS_QUEUE_URL: httpUrl.optional(),
  SQS_ENDPOINT: httpUrl.optional(),
  WEBHOOK_DNS_RESOLVER: z.enum(["doh", "off"]).optional(),
  WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
  NOTIFY_SCHEDULE_MS: z
    .string()
    .transform((text, ctx) => {
      const schedule = parseSchedule(text);
      if (schedule.ok) return schedule.value;
      ctx.addIssue({ code: "custom", message: schedule.error });
      return z.NEVER;
    })
    .optional(),
  PROCESSOR: z.enum(["stream", "web-ifc", "mock"]).default("stream"),
  // Below 48 MiB web-ifc cannot hold even a small model next to its own code.
  PROCESSING_MEMORY_BYTES: z.coerce.number().int().min(48 * MiB).default(96 * MiB),
  PROCESSING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  PROCESSING_RETRY_BASE_MS: z.coerce.number().int().positive().default(2_000),
  PROCESSING_RETRY_CAP_MS: z.coerce.number().int().positive().default(5 * 60_000),
  // Unset: none for the stream engine (it yields at every block it reads); a moment's grace
  // for web-ifc, so the 202 leaves before a job object sharing the isolate starts it (it
  // holds the thread for seconds on a large model).
  PROCESSING_START_DELAY_MS: z.coerce.number().int().nonnegative().optional(),
  PROCESSING_TIMEOUT_MS: z.coerce.number().int().positive().default(5 * 60_000),
  MOCK_PROCESSOR_OUTCOME: z.enum(["succeed", ...FAILURE_CODES]).default("succeed"),
  MOCK_PROCESSOR_DELAY_MS: z.coerce.number().int().nonnegative().default(0),
  BREAKER_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_RESET_MS: z.coerce.number().int().min(1).max(24 * 60 * 60 * 1000).default(60_000),
  RETRY_BUDGET_TOKENS: z.coerce.number().int().min(0).max(1_000_000).default(500),
  STORAGE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60 * 60 * 1000).default(600_000),
});

/** The settings as strings, before validation. */
type RawSettings = Record<keyof z.input<typeof configSchema>, string | undefined>;

export type Environment = z.infer<typeof environmentSchema>;
export type StorageDriver = z.infer<typeof storageDriverSchema>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  environment: Environment;
  storageDriver: StorageDriver;
  maxUploadBytes: number;
  /** Part buffers all uploads of one isolate may hold together (see storage/buffer-budget). */
  uploadBufferBytes: number;
  authJwtSecret: string;
  logLevel: LogLevel;
  /** Present exactly when storageDriver is "s3". */
  s3: S3Settings | undefined;
  notify: NotifyConfig;
  processing: ProcessingConfig;
  resilience: ResilienceConfig;
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

export interface ProcessingConfig {
  processor: "stream" | "web-ifc" | "mock";
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

function defaultDriver(environment: string | undefined): StorageDriver {
  if (environment === "test") return "memory";
  return environment === "production" ? "s3" : "r2";
}

const blankToUndefined = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value;

/**
 * Settings that are required only in some combinations. Worked out from the raw input, so
 * they are reported together with every format problem, not after those are fixed.
 */
function missingSettings(input: RawSettings, hasR2Binding: boolean): string[] {
  const driver = input.STORAGE_DRIVER ?? defaultDriver(input.ENVIRONMENT);
  const problems: string[] = [];
  if (driver === "r2" && !hasR2Binding) problems.push("MODELS: R2 binding MODELS is required when STORAGE_DRIVER=r2");
  if (driver === "s3") {
    for (const name of ["S3_BUCKET", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const) {
      if (input[name] === undefined) problems.push(`${name}: is required when STORAGE_DRIVER=s3`);
    }
    if (input.S3_SSE === "aws:kms" && input.S3_SSE_KMS_KEY_ID === undefined) {
      problems.push("S3_SSE_KMS_KEY_ID: is required when S3_SSE=aws:kms");
    }
    const partSize = Number(input.S3_PART_SIZE ?? S3_DEFAULT_PART_SIZE);
    const budget = Number(input.UPLOAD_BUFFER_BYTES ?? DEFAULT_UPLOAD_BUFFER_BYTES);
    if (budget < partSize) {
      problems.push(`UPLOAD_BUFFER_BYTES: must be at least S3_PART_SIZE (${partSize} bytes), or every upload is refused`);
    }
  }
  if (input.SQS_QUEUE_URL !== undefined) {
    for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const) {
      if (input[name] === undefined && driver !== "s3") problems.push(`${name}: is required when SQS_QUEUE_URL is set`);
    }
  }
  return problems;
}

/** Everything but the Durable Object namespaces, which configuration never looks at. */
export type ConfigSource = Omit<Env, "JOBS" | "PROJECTS" | "CIRCUITS">;

/** Validates every setting at once so one message names everything that is wrong. */
export function loadConfig(env: ConfigSource): Config {
  const input: RawSettings = {
    ENVIRONMENT: (blankToUndefined(env.ENVIRONMENT) ?? "production"),
    STORAGE_DRIVER: blankToUndefined(env.STORAGE_DRIVER),
    MAX_UPLOAD_BYTES: blankToUndefined(env.MAX_UPLOAD_BYTES),
    UPLOAD_BUFFER_BYTES: blankToUndefined(env.UPLOAD_BUFFER_BYTES),
    AUTH_JWT_SECRET: env.AUTH_JWT_SECRET,
    LOG_LEVEL: blankToUndefined(env.LOG_LEVEL),
    S3_BUCKET: blankToUndefined(env.S3_BUCKET),
    S3_ENDPOINT: blankToUndefined(env.S3_ENDPOINT),
    S3_FORCE_PATH_STYLE: blankToUndefined(env.S3_FORCE_PATH_STYLE),
    AWS_REGION: blankToUndefined(env.AWS_REGION),
    AWS_ACCESS_KEY_ID: blankToUndefined(env.AWS_ACCESS_KEY_ID),
    AWS_SECRET_ACCESS_KEY: blankToUndefined(env.AWS_SECRET_ACCESS_KEY),
    S3_PART_SIZE: blankToUndefined(env.S3_PART_SIZE),
    S3_UPLOAD_CONCURRENCY: blankToUndefined(env.S3_UPLOAD_CONCURRENCY),
    S3_SSE: blankToUndefined(env.S3_SSE),
    S3_SSE_KMS_KEY_ID: blankToUndefined(env.S3_SSE_KMS_KEY_ID),
    S3_SIGN_PAYLOAD: blankToUndefined(env.S3_SIGN_PAYLOAD),
    SQS_QUEUE_URL: blankToUndefined(env.SQS_QUEUE_URL),
    SQS_ENDPOINT: blankToUndefined(env.SQS_ENDPOINT),
    WEBHOOK_DNS_RESOLVER: blankToUndefined(env.WEBHOOK_DNS_RESOLVER),
    WEBHOOK_ALLOW_PRIVATE: blankToUndefined(env.WEBHOOK_ALLOW_PRIVATE),
    NOTIFY_SCHEDULE_MS: blankToUndefined(env.NOTIFY_SCHEDULE_MS),
    PROCESSOR: blankToUndefined(env.PROCESSOR),
    PROCESSING_MEMORY_BYTES: blankToUndefined(env.PROCESSING_MEMORY_BYTES),
    PROCESSING_MAX_ATTEMPTS: blankToUndefined(env.PROCESSING_MAX_ATTEMPTS),
    PROCESSING_RETRY_BASE_MS: blankToUndefined(env.PROCESSING_RETRY_BASE_MS),
    PROCESSING_RETRY_CAP_MS: blankToUndefined(env.PROCESSING_RETRY_CAP_MS),
    PROCESSING_START_DELAY_MS: blankToUndefined(env.PROCESSING_START_DELAY_MS),
    PROCESSING_TIMEOUT_MS: blankToUndefined(env.PROCESSING_TIMEOUT_MS),
    MOCK_PROCESSOR_OUTCOME: blankToUndefined(env.MOCK_PROCESSOR_OUTCOME),
    MOCK_PROCESSOR_DELAY_MS: blankToUndefined(env.MOCK_PROCESSOR_DELAY_MS),
    BREAKER_FAILURE_THRESHOLD: blankToUndefined(env.BREAKER_FAILURE_THRESHOLD),
    BREAKER_RESET_MS: blankToUndefined(env.BREAKER_RESET_MS),
    RETRY_BUDGET_TOKENS: blankToUndefined(env.RETRY_BUDGET_TOKENS),
    STORAGE_TIMEOUT_MS: blankToUndefined(env.STORAGE_TIMEOUT_MS),
  };
  const parsed = configSchema.safeParse(input);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`)),
    ...missingSettings(input, env.MODELS !== undefined),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const value = parsed.data;
  const storageDriver = value.STORAGE_DRIVER ?? defaultDriver(value.ENVIRONMENT);
  return {
    environment: value.ENVIRONMENT,
    storageDriver,
    maxUploadBytes: value.MAX_UPLOAD_BYTES,
    uploadBufferBytes: value.UPLOAD_BUFFER_BYTES,
    authJwtSecret: value.AUTH_JWT_SECRET,
    logLevel: value.LOG_LEVEL,
    s3: storageDriver === "s3" ? s3Settings(value) : undefined,
    notify: {
      sqs: sqsSettings(value),
      webhook: {
        // Local receivers (wrangler dev, tests) listen on http://127.0.0.1; production never may.
        allowPrivate: (value.WEBHOOK_ALLOW_PRIVATE ?? String(value.ENVIRONMENT !== "production")) === "true",
        // Tests must not send DNS queries out of the machine.
        dnsResolver: value.WEBHOOK_DNS_RESOLVER ?? (value.ENVIRONMENT === "test" ? "off" : "doh"),
      },
      queue: env.EVENTS_QUEUE !== undefined,
      scheduleMs: value.NOTIFY_SCHEDULE_MS ?? DEFAULT_SCHEDULE_MS,
    },
    processing: {
      processor: value.PROCESSOR,
      memoryBytes: value.PROCESSING_MEMORY_BYTES,
      maxAttempts: value.PROCESSING_MAX_ATTEMPTS,
      retry: { baseMs: value.PROCESSING_RETRY_BASE_MS, capMs: value.PROCESSING_RETRY_CAP_MS },
      startDelayMs: value.PROCESSING_START_DELAY_MS ?? (value.PROCESSOR === "web-ifc" ? 1_000 : 0),
      timeoutMs: value.PROCESSING_TIMEOUT_MS,
      mock: { outcome: value.MOCK_PROCESSOR_OUTCOME, delayMs: value.MOCK_PROCESSOR_DELAY_MS },
    },
    resilience: {
      breaker: { failureThreshold: value.BREAKER_FAILURE_THRESHOLD, resetMs: value.BREAKER_RESET_MS },
      retryBudget: { maxTokens: value.RETRY_BUDGET_TOKENS, retryCost: 5, timeoutCost: 10, successRefund: 1 },
      storageTimeoutMs: value.STORAGE_TIMEOUT_MS,
    },
  };
}

function sqsSettings(value: z.output<typeof configSchema>): SqsSettings | null {
  const { SQS_QUEUE_URL: queueUrl, AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = value;
  if (queueUrl === undefined || region === undefined || accessKeyId === undefined || secretAccessKey === undefined) return null;
  return { queueUrl, region, accessKeyId, secretAccessKey, ...(value.SQS_ENDPOINT === undefined ? {} : { endpoint: value.SQS_ENDPOINT }) };
}

function s3Settings(value: z.output<typeof configSchema>): S3Settings {
  // missingSettings has vouched for these; the fallbacks only satisfy the type checker.
  return {
    bucket: value.S3_BUCKET ?? "",
    endpoint: value.S3_ENDPOINT,
    forcePathStyle: value.S3_FORCE_PATH_STYLE === "true",
    region: value.AWS_REGION ?? "",
    accessKeyId: value.AWS_ACCESS_KEY_ID ?? "",
    secretAccessKey: value.AWS_SECRET_ACCESS_KEY ?? "",
    partSize: value.S3_PART_SIZE,
    uploadConcurrency: value.S3_UPLOAD_CONCURRENCY,
    encryption:
      value.S3_SSE === "aws:kms" ? { mode: "aws:kms", kmsKeyId: value.S3_SSE_KMS_KEY_ID ?? "" } : { mode: "AES256" },
    signPayload: value.S3_SIGN_PAYLOAD === "true",
  };
}
