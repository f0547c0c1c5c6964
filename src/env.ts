import type { JobObject } from "./objects/job";

/** Bindings declared in wrangler.toml. Only src/config.ts reads the plain-string ones. */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  MODELS?: R2Bucket;
  ENVIRONMENT?: string;
  STORAGE_DRIVER?: string;
  MAX_UPLOAD_BYTES?: string;
  AUTH_JWT_SECRET?: string;
  LOG_LEVEL?: string;
  S3_BUCKET?: string;
  S3_ENDPOINT?: string;
  S3_FORCE_PATH_STYLE?: string;
  AWS_REGION?: string;
  /** Secret: wrangler secret / .dev.vars only. */
  AWS_ACCESS_KEY_ID?: string;
  /** Secret: wrangler secret / .dev.vars only. */
  AWS_SECRET_ACCESS_KEY?: string;
  S3_PART_SIZE?: string;
  S3_UPLOAD_CONCURRENCY?: string;
  S3_SSE?: string;
  S3_SSE_KMS_KEY_ID?: string;
}
