import { z } from "zod";
import { defineSettings } from "../lib/settings";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface JobConfig {
  jobs: {
    /** A finished job (its record, model and summary.json) is deleted this long after it finished. */
    retentionMs: number;
  };
}

/** How long the jobs room keeps what it holds. */
export const jobSettings = defineSettings({
  shape: {
    JOB_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  },
  build: (value): JobConfig => ({ jobs: { retentionMs: value.JOB_RETENTION_DAYS * DAY_MS } }),
});
