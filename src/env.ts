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
}
