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
  PROCESSOR?: string;
  PROCESSING_MEMORY_BYTES?: string;
  PROCESSING_MAX_ATTEMPTS?: string;
  PROCESSING_RETRY_BASE_MS?: string;
  PROCESSING_RETRY_CAP_MS?: string;
  PROCESSING_START_DELAY_MS?: string;
  PROCESSING_TIMEOUT_MS?: string;
  MOCK_PROCESSOR_OUTCOME?: string;
  MOCK_PROCESSOR_DELAY_MS?: string;
}
