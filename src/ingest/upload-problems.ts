import type { Logger } from "../lib/log";
import { ProblemError } from "../lib/problem";
import { DependencyTimeoutError } from "../resilience/errors";
import { UploadCapacityError } from "../storage/buffer-budget";
import { StorageError } from "../storage/object-storage";

/** The answers to an upload that was not stored, by whose fault it was. */

const storageUnavailable = (detail: string, retryAfterSeconds?: number): ProblemError =>
  new ProblemError({
    status: 503,
    slug: "storage-unavailable",
    title: "Storage Unavailable",
    detail,
    ...(retryAfterSeconds === undefined ? {} : { headers: { "Retry-After": String(retryAfterSeconds) } }),
  });

export function uploadFailure(error: unknown, log: Logger, driver: string): ProblemError {
  if (error instanceof UploadCapacityError) {
    log.warn({ msg: "upload refused: the isolate's upload buffers are in use", outcome: "rejected", driver, budgetBytes: error.budgetBytes });
    return new ProblemError({
      status: 503,
      slug: "upload-capacity",
      title: "Service Unavailable",
      detail: "This instance is storing as many uploads as its memory allows. Nothing was kept; retry in a moment.",
      headers: { "Retry-After": "2" },
    });
  }
  if (error instanceof DependencyTimeoutError) {
    log.error({ msg: "storage write timed out", outcome: "error", driver, error: error.message });
    return storageUnavailable("The model could not be stored in time. Nothing was kept; retry later.", 5);
  }
  if (error instanceof StorageError) {
    log.error({
      msg: error.code === "credentials" ? "storage rejected the service's credentials or permissions" : "storage write failed",
      outcome: "error",
      driver,
      code: error.code,
      retryable: error.retryable,
      error: error.message,
      cause: error.cause === undefined ? undefined : String(error.cause),
    });
    // Retrying will not help until an operator fixes the storage settings, so no Retry-After.
    if (error.code === "credentials") {
      return storageUnavailable(
        "The model could not be stored: the storage service rejected this service's credentials or permissions. " +
          "Nothing was kept; the operators have to fix the storage settings.",
      );
    }
    return storageUnavailable("The model could not be stored right now. Nothing was kept; retry later.", 5);
  }
  // The request body itself failed: the client went away or sent a broken body.
  return uploadInterrupted(error, log);
}

export function uploadInterrupted(error: unknown, log: Logger): ProblemError {
  log.warn({ msg: "upload body failed", outcome: "rejected", error: error instanceof Error ? error.message : String(error) });
  return new ProblemError({
    status: 400,
    slug: "upload-interrupted",
    title: "Upload Interrupted",
    detail: "The request body ended unexpectedly. Nothing was kept; upload the file again.",
  });
}

/** The client sent nothing for the idle limit: its fault, and its buffers go back. */
export function uploadStalled(idleMs: number): ProblemError {
  return new ProblemError({
    status: 408,
    slug: "upload-stalled",
    title: "Upload Stalled",
    detail: `The request body sent nothing for ${Math.round(idleMs / 1000)} s. Nothing was kept; upload the file again.`,
    extensions: { idleTimeoutMs: idleMs },
  });
}

/** The model was stored but its job could not be recorded: removed again, so retrying is safe. */
export function jobUnavailable(): ProblemError {
  return new ProblemError({
    status: 503,
    slug: "job-unavailable",
    title: "Service Unavailable",
    detail: "The model could not be registered as a job. Nothing was kept; retry later.",
    headers: { "Retry-After": "5" },
  });
}
