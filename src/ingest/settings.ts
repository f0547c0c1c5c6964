import { z } from "zod";
import { defineSettings } from "../lib/settings";

export interface IngestConfig {
  maxUploadBytes: number;
}

/** Limits of the upload pipeline. */
export const ingestSettings = defineSettings({
  shape: {
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(5 * 1024 ** 3),
  },
  build: (value): IngestConfig => ({ maxUploadBytes: value.MAX_UPLOAD_BYTES }),
});
