import type { CircuitObject } from "./objects/circuit";
import type { JobObject } from "./objects/job";

/** Bindings declared in wrangler.toml. Only src/config.ts reads the plain-string ones. */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  CIRCUITS: DurableObjectNamespace<CircuitObject>;
  MODELS?: R2Bucket;
  ENVIRONMENT?: string;
  STORAGE_DRIVER?: string;
  MAX_UPLOAD_BYTES?: string;
  AUTH_JWT_SECRET?: string;
  LOG_LEVEL?: string;
  BREAKER_FAILURE_THRESHOLD?: string;
  BREAKER_RESET_MS?: string;
  RETRY_BUDGET_TOKENS?: string;
  STORAGE_TIMEOUT_MS?: string;
}
