import type { NotificationEvent } from "./notify/events";
import type { CircuitObject } from "./objects/circuit";
import type { JobObject } from "./objects/job";
import type { ProjectObject } from "./objects/project";

/** Bindings declared in wrangler.toml. Only src/config.ts reads the plain-string ones. */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  PROJECTS: DurableObjectNamespace<ProjectObject>;
  /** Optional Cloudflare Queue for notifications. */
  EVENTS_QUEUE?: Queue<NotificationEvent>;
  CIRCUITS: DurableObjectNamespace<CircuitObject>;
  MODELS?: R2Bucket;
  ENVIRONMENT?: string;
  STORAGE_DRIVER?: string;
  MAX_UPLOAD_BYTES?: string;
  UPLOAD_BUFFER_BYTES?: string;
  AUTH_JWT_SECRET?: string;
  AUTH_ISSUER?: string;
  AUTH_AUDIENCE?: string;
  UPLOAD_IDLE_TIMEOUT_MS?: string;
  MAX_CONCURRENT_UPLOADS?: string;
  LOG_LEVEL?: string;
  SQS_QUEUE_URL?: string;
  SQS_ENDPOINT?: string;
  WEBHOOK_DNS_RESOLVER?: string;
  WEBHOOK_ALLOW_PRIVATE?: string;
  NOTIFY_SCHEDULE_MS?: string;
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
  S3_SIGN_PAYLOAD?: string;
  PROCESSOR?: string;
  PROCESSING_MEMORY_BYTES?: string;
  PROCESSING_MAX_ATTEMPTS?: string;
  PROCESSING_RETRY_BASE_MS?: string;
  PROCESSING_RETRY_CAP_MS?: string;
  PROCESSING_START_DELAY_MS?: string;
  PROCESSING_TIMEOUT_MS?: string;
  MOCK_PROCESSOR_OUTCOME?: string;
  MOCK_PROCESSOR_DELAY_MS?: string;
  BREAKER_FAILURE_THRESHOLD?: string;
  BREAKER_RESET_MS?: string;
  RETRY_BUDGET_TOKENS?: string;
  STORAGE_TIMEOUT_MS?: string;
}
