import { z } from "zod";
import { defineSettings } from "../lib/settings";
import { DEFAULT_MAX_CONCURRENT_UPLOADS } from "./upload-slots";

export interface IngestConfig {
  maxUploadBytes: number;
  /** A request body that sends nothing this long ends with 408 upload-stalled. */
  uploadIdleTimeoutMs: number;
  /** Uploads one isolate runs at once; more are answered 503 upload-capacity. */
  maxConcurrentUploads: number;
  /** How long an Idempotency-Key's record (its fingerprint and first reply) is kept. */
  idempotencyTtlMs: number;
}

/** Limits of the upload pipeline. */
export const ingestSettings = defineSettings({
  shape: {
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(5 * 1024 ** 3),
    UPLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(10 * 60_000).default(30_000),
    MAX_CONCURRENT_UPLOADS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_MAX_CONCURRENT_UPLOADS),
    // Seconds, as UPLOAD_SESSION_TTL.
    IDEMPOTENCY_TTL: z.coerce.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
  },
  build: (value): IngestConfig => ({
    maxUploadBytes: value.MAX_UPLOAD_BYTES,
    uploadIdleTimeoutMs: value.UPLOAD_IDLE_TIMEOUT_MS,
    maxConcurrentUploads: value.MAX_CONCURRENT_UPLOADS,
    idempotencyTtlMs: value.IDEMPOTENCY_TTL * 1000,
  }),
});
