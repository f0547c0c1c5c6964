import { z } from "zod";
import { defineSettings } from "../lib/settings";

export interface UploadSessionConfig {
  uploads: {
    /** A session left open this long is aborted by its alarm. */
    sessionTtlMs: number;
    /** Validity of one presigned UploadPart URL (S3). */
    partUrlTtlSeconds: number;
  };
}

/** Upload sessions: how long one stays open, how long a presigned part URL lives (seconds). */
export const uploadSessionSettings = defineSettings({
  shape: {
    UPLOAD_SESSION_TTL: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(24 * 3600),
    UPLOAD_PART_URL_TTL: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600, "must be at most 7 days, S3's limit for presigned URLs")
      .default(15 * 60),
  },
  build: (value): UploadSessionConfig => ({
    uploads: { sessionTtlMs: value.UPLOAD_SESSION_TTL * 1000, partUrlTtlSeconds: value.UPLOAD_PART_URL_TTL },
  }),
});
