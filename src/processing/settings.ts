import { z } from "zod";
import { defineSettings } from "../lib/settings";
import { FAILURE_CODES, type FailureCode } from "./processor";

const MiB = 1024 ** 2;

export interface ProcessingConfig {
  processor: "stream" | "web-ifc" | "mock";
  /** Budget for the WASM heap of one job; sizes web-ifc's buffers and the largest model taken. */
  memoryBytes: number;
  /** Attempts in all, the first included, before a transient failure becomes final. */
  maxAttempts: number;
  retry: { baseMs: number; capMs: number };
  /** Wait between an accepted upload and the first attempt (tests set it high and drive alarms). */
  startDelayMs: number;
  /** An attempt still unfinished after this long is treated as lost (isolate killed, limit hit). */
  timeoutMs: number;
  mock: { outcome: "succeed" | FailureCode; delayMs: number };
}

const DEFAULT_START_DELAY_MS = { stream: 0, "web-ifc": 1_000, mock: 250 } as const;

/** The summary engine and the job's attempt policy. */
export const processingSettings = defineSettings({
  shape: {
    PROCESSOR: z.enum(["stream", "web-ifc", "mock"]).default("stream"),
    // Below 48 MiB web-ifc cannot hold even a small model next to its own code.
    PROCESSING_MEMORY_BYTES: z.coerce.number().int().min(48 * MiB).default(96 * MiB),
    PROCESSING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    PROCESSING_RETRY_BASE_MS: z.coerce.number().int().positive().default(2_000),
    PROCESSING_RETRY_CAP_MS: z.coerce.number().int().positive().default(5 * 60_000),
    // Unset: none for the stream engine (it yields to the isolate every few MiB), 1 s for web-ifc,
    // which holds the thread for seconds: the upload's 202 leaves before a job object sharing
    // the isolate starts, since a running attempt delays that isolate's replies (wrangler dev
    // runs the Worker and its objects in one isolate; Cloudflare does not). The mock keeps a
    // quarter second, so tests see a job queued before it runs.
    PROCESSING_START_DELAY_MS: z.coerce.number().int().nonnegative().optional(),
    PROCESSING_TIMEOUT_MS: z.coerce.number().int().positive().default(5 * 60_000),
    MOCK_PROCESSOR_OUTCOME: z.enum(["succeed", ...FAILURE_CODES]).default("succeed"),
    MOCK_PROCESSOR_DELAY_MS: z.coerce.number().int().nonnegative().default(0),
  },
  build: (value): { processing: ProcessingConfig } => ({
    processing: {
      processor: value.PROCESSOR,
      memoryBytes: value.PROCESSING_MEMORY_BYTES,
      maxAttempts: value.PROCESSING_MAX_ATTEMPTS,
      retry: { baseMs: value.PROCESSING_RETRY_BASE_MS, capMs: value.PROCESSING_RETRY_CAP_MS },
      startDelayMs: value.PROCESSING_START_DELAY_MS ?? DEFAULT_START_DELAY_MS[value.PROCESSOR],
      timeoutMs: value.PROCESSING_TIMEOUT_MS,
      mock: { outcome: value.MOCK_PROCESSOR_OUTCOME, delayMs: value.MOCK_PROCESSOR_DELAY_MS },
    },
  }),
});
