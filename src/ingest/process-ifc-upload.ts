import type { Logger } from "../lib/log";
import type { CallOutcome } from "../resilience/breaker";
import { CircuitOpenError, DependencyTimeoutError } from "../resilience/errors";
import { ProblemError } from "../lib/problem";
import type { JobDirectory } from "../jobs/client";
import { type AcceptedUpload, type JobRecord, jobLink } from "../jobs/record";
import { UploadCapacityError } from "../storage/buffer-budget";
import { type ObjectStorage, StorageError } from "../storage/object-storage";
import { type ByteSource, streamSource } from "../lib/byte-source";
import { type Inspection, type InspectionResult, inspectUpload, tooLarge } from "./inspect-stream";
import { modelObjectKey, sanitizeFilename } from "./sanitize-filename";
import { withDeadline } from "../lib/deadline";

export interface UploadDeps {
  storage: ObjectStorage;
  jobs: JobDirectory;
  log: Logger;
  maxUploadBytes: number;
  now: () => Date;
  /**
   * Runs the storage write behind the storage circuit breaker (see circuits/client).
   * Without it the write runs as it is, with no deadline.
   */
  guardStorage?: StorageGuard;
  /** Bound on the clean-up after a failed write, which meets the same sick storage. */
  cleanupTimeoutMs?: number;
}

export type StorageGuard = <T>(call: (signal: AbortSignal) => Promise<T>, classify: (error: unknown) => CallOutcome) => Promise<T>;

const unguarded: StorageGuard = (call) => call(new AbortController().signal);

export interface UploadTarget {
  projectId: string;
  jobId: string;
  requestId: string;
}

export interface IncomingFile {
  /** As the client named it; sanitised here. */
  name: string | undefined;
  body: ReadableStream<Uint8Array> | ByteSource;
  /** Exact length of `body` when known (a raw upload with Content-Length). */
  contentLength?: number;
  /** An upper bound of the length otherwise (a multipart file: the request's Content-Length). */
  maxLength?: number;
}

/**
 * Streams one IFC file into storage through the STEP sniffer,
 * SHA-256 and the size limit, then records the job. Usable without HTTP.
 * Nothing is left in storage when it throws.
 */
export async function processIfcUpload(
  deps: UploadDeps,
  target: UploadTarget,
  file: IncomingFile,
): Promise<AcceptedUpload> {
  const { projectId, jobId } = target;
  const log = deps.log.child({ projectId, jobId, component: "ingest" });
  if (file.contentLength !== undefined && file.contentLength > deps.maxUploadBytes) {
    await file.body.cancel("too large").catch(() => undefined);
    throw tooLarge(deps.maxUploadBytes);
  }
  const name = sanitizeFilename(file.name);
  const key = modelObjectKey(projectId, jobId, name);
  const started = Date.now();
  // Created inside the guarded call, so nothing of the body is read before storage admits it.
  let inspection: Inspection | undefined;
  // Whose fault a failed write was decides whether it counts against the storage breaker.
  const classify = (error: unknown): CallOutcome => {
    if (inspection?.failure() !== undefined || error instanceof ProblemError) return "client-error";
    // This isolate is busy, storage is fine.
    if (error instanceof UploadCapacityError) return "client-error";
    if (error instanceof StorageError) return error.retryable ? "failure" : "client-error";
    // Anything else is the request body failing (the client went away): not storage's fault.
    return "client-error";
  };
  let result: InspectionResult;
  try {
    result = await (deps.guardStorage ?? unguarded)(async (signal) => {
      inspection = inspectUpload(
        file.body instanceof ReadableStream ? streamSource(file.body) : file.body,
        deps.maxUploadBytes,
        file.contentLength,
      );
      await deps.storage.put(key, inspection.readable, {
        contentLength: file.contentLength,
        maxLength: file.maxLength,
        contentType: "application/x-step",
        signal,
      });
      return inspection.result();
    }, classify);
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      // Turned away before anything was written or read.
      await file.body.cancel("circuit open").catch(() => undefined);
      throw error;
    }
    await inspection?.readable.cancel("upload failed").catch(() => undefined);
    await cleanUp(deps, key, log);
    // The inspection's verdict first; then a problem raised by the body's own parser.
    const rejected = inspection?.failure() ?? (error instanceof ProblemError ? error : undefined);
    if (rejected) {
      log.info({ msg: "upload rejected", outcome: "rejected", status: rejected.status, reason: rejected.slug });
      throw rejected;
    }
    throw uploadFailure(error, log, deps.storage.driver);
  }
  log.info({
    msg: "upload stored",
    outcome: "ok",
    durationMs: Date.now() - started,
    bytes: result.size,
    driver: deps.storage.driver,
  });

  const at = deps.now().toISOString();
  const fileInfo = { name, size: result.size, sha256: result.sha256, schema: result.schema };
  const record: JobRecord = {
    jobId,
    projectId,
    status: "queued",
    file: fileInfo,
    objectKey: key,
    attempts: 0,
    notifications: [],
    requestId: target.requestId,
    createdAt: at,
    updatedAt: at,
  };
  const reply: AcceptedUpload = { jobId, projectId, status: "queued", file: fileInfo, links: { self: jobLink(jobId) } };
  await deps.jobs.accept(record, reply);
  return reply;
}

/** Best effort and bounded: a storage that just failed the write may hang on the delete too. */
async function cleanUp(deps: UploadDeps, key: string, log: Logger): Promise<void> {
  const signal = AbortSignal.timeout(deps.cleanupTimeoutMs ?? 10_000);
  try {
    await withDeadline(deps.storage.delete(key), signal, () => new CleanupTimeout());
  } catch (cleanup) {
    if (cleanup instanceof CleanupTimeout) log.warn({ msg: "gave up removing a partial upload", key });
    else log.error({ msg: "could not remove a partial upload", key, error: String(cleanup) });
  }
}

class CleanupTimeout extends Error {}

const storageUnavailable = (detail: string, retryAfterSeconds?: number): ProblemError =>
  new ProblemError({
    status: 503,
    slug: "storage-unavailable",
    title: "Storage Unavailable",
    detail,
    ...(retryAfterSeconds === undefined ? {} : { headers: { "Retry-After": String(retryAfterSeconds) } }),
  });

function uploadFailure(error: unknown, log: Logger, driver: string): ProblemError {
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
  log.warn({ msg: "upload body failed", outcome: "error", error: error instanceof Error ? error.message : String(error) });
  return new ProblemError({
    status: 400,
    slug: "upload-interrupted",
    title: "Upload Interrupted",
    detail: "The request body ended unexpectedly. Nothing was kept; upload the file again.",
  });
}
