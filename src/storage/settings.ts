import { z } from "zod";
import { AWS_SETTINGS, awsShape } from "../lib/aws-settings";
import { booleanSetting, defineSettings, type SettingsContext } from "../lib/settings";
import { DEFAULT_UPLOAD_BUFFER_BYTES, UPLOAD_OVERHEAD_BYTES } from "./buffer-budget";
import { R2_PART_SIZE } from "./r2";
import { S3_DEFAULT_PART_SIZE, S3_DEFAULT_UPLOAD_CONCURRENCY, S3_MIN_PART_SIZE, type S3Settings } from "./s3";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export type StorageDriver = "r2" | "memory" | "s3";

export interface StorageConfig {
  storageDriver: StorageDriver;
  /** Every buffer the uploads of one isolate may hold together (see buffer-budget). */
  uploadBufferBytes: number;
  /** Present exactly when storageDriver is "s3". */
  s3: S3Settings | undefined;
}

function defaultDriver(environment: SettingsContext["environment"]): StorageDriver {
  if (environment === "test") return "memory";
  return environment === "production" ? "s3" : "r2";
}

/** Storage adapters' settings: which driver, the isolate's buffer budget, and S3's. */
export const storageSettings = defineSettings({
  shape: {
    STORAGE_DRIVER: z.enum(["r2", "memory", "s3"]).optional(),
    UPLOAD_BUFFER_BYTES: z.coerce
      .number()
      .int()
      .min(R2_PART_SIZE + UPLOAD_OVERHEAD_BYTES, `must be at least ${R2_PART_SIZE + UPLOAD_OVERHEAD_BYTES} bytes (11 MiB): one part and one upload's blocks`)
      .max(1024 * MiB)
      .default(DEFAULT_UPLOAD_BUFFER_BYTES),
    // Formats are checked whenever a value is set; which ones are required depends on the driver.
    S3_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
      .optional(),
    S3_ENDPOINT: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    S3_FORCE_PATH_STYLE: booleanSetting.default("false"),
    ...awsShape,
    S3_PART_SIZE: z.coerce
      .number()
      .int()
      .min(S3_MIN_PART_SIZE, `must be at least ${S3_MIN_PART_SIZE} bytes (5 MiB), S3's smallest part`)
      .max(5 * GiB, "must be at most 5 GiB, S3's largest part")
      .default(S3_DEFAULT_PART_SIZE),
    S3_UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(S3_DEFAULT_UPLOAD_CONCURRENCY),
    S3_SSE: z.enum(["AES256", "aws:kms"], { error: "must be AES256 or aws:kms" }).default("AES256"),
    S3_SSE_KMS_KEY_ID: z.string().optional(),
    S3_SIGN_PAYLOAD: booleanSetting.default("false"),
  },
  missing(raw, context) {
    const driver = raw.STORAGE_DRIVER ?? defaultDriver(context.environment);
    const problems: string[] = [];
    if (driver === "r2" && !context.bindings.models) problems.push("MODELS: R2 binding MODELS is required when STORAGE_DRIVER=r2");
    if (driver !== "s3") return problems;
    for (const name of ["S3_BUCKET", ...AWS_SETTINGS] as const) {
      if (raw[name] === undefined) problems.push(`${name}: is required when STORAGE_DRIVER=s3`);
    }
    if (raw.S3_SSE === "aws:kms" && raw.S3_SSE_KMS_KEY_ID === undefined) {
      problems.push("S3_SSE_KMS_KEY_ID: is required when S3_SSE=aws:kms");
    }
    const partSize = Number(raw.S3_PART_SIZE ?? S3_DEFAULT_PART_SIZE);
    const budget = Number(raw.UPLOAD_BUFFER_BYTES ?? DEFAULT_UPLOAD_BUFFER_BYTES);
    if (budget < partSize + UPLOAD_OVERHEAD_BYTES) {
      problems.push(`UPLOAD_BUFFER_BYTES: must be at least S3_PART_SIZE + 3 MiB (${partSize + UPLOAD_OVERHEAD_BYTES} bytes), or every large upload is refused`);
    }
    return problems;
  },
  build(value, context): StorageConfig {
    const storageDriver = value.STORAGE_DRIVER ?? defaultDriver(context.environment);
    return {
      storageDriver,
      uploadBufferBytes: value.UPLOAD_BUFFER_BYTES,
      // `missing` has vouched for the required values; the fallbacks only satisfy the type checker.
      s3:
        storageDriver === "s3"
          ? {
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
            }
          : undefined,
    };
  },
});
