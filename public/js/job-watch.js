// Follows a job until it has succeeded or failed, polling its view (GET /v1/jobs/{id}).
import { ProblemError } from "./api.js";
import { formatBytes, formatCount } from "./format.js";
import { backoffMs, isRetryable } from "./parts.js";

const POLL_MS = 1000;

/** @param {string} status */
export const isFinal = (status) => status === "succeeded" || status === "failed";

/**
 * @param {import("./api.js").Api} api
 * @param {string} jobId
 * @param {(job: any) => void} onUpdate
 * @param {AbortSignal} signal
 * @returns {Promise<any>} the final job view
 */
export async function watchJob(api, jobId, onUpdate, signal) {
  let failures = 0;
  for (;;) {
    try {
      const job = await api.json(`/v1/jobs/${encodeURIComponent(jobId)}`, { signal });
      failures = 0;
      onUpdate(job);
      if (isFinal(job.status)) return job;
      await sleep(POLL_MS, signal);
    } catch (error) {
      if (signal.aborted || !(error instanceof ProblemError) || !isRetryable(error.status) || failures >= 5) throw error;
      failures += 1;
      await sleep(POLL_MS + backoffMs(failures), signal);
    }
  }
}

/** @param {number} ms @param {AbortSignal} signal */
function sleep(ms, signal) {
  return new Promise((done, fail) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        fail(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * What a person reads about a job beside its status: how far processing got, what the model
 * holds once it succeeded, the failure code once it failed.
 * @param {{status: string, progress?: {phase?: string, bytesDone?: number, bytesTotal?: number}, summary?: {schema?: string, entityCount?: number}, error?: {code?: string}}} job
 * @returns {{text: string, fraction: number | null}}
 */
export function jobProgress(job) {
  const progress = job.progress;
  if (job.status === "processing" && progress && typeof progress.bytesTotal === "number" && progress.bytesTotal > 0) {
    const fraction = Math.min(1, (progress.bytesDone ?? 0) / progress.bytesTotal);
    return { text: `${progress.phase ?? "processing"}: ${Math.floor(fraction * 100)} % of ${formatBytes(progress.bytesTotal)}`, fraction };
  }
  if (job.status === "succeeded" && job.summary && typeof job.summary.entityCount === "number") {
    return { text: `${job.summary.schema ?? ""} · ${formatCount(job.summary.entityCount)} entities`, fraction: 1 };
  }
  if (job.status === "failed") return { text: job.error?.code ?? "", fraction: null };
  if (job.status === "queued") return { text: "waiting to be processed", fraction: null };
  return { text: "", fraction: null };
}
