import type { Logger } from "../lib/log";
import type { CallOutcome } from "../resilience/breaker";
import { CircuitOpenError } from "../resilience/errors";
import { ProblemError } from "../lib/problem";
import type { JobDirectory } from "../jobs/client";
import { type AcceptedUpload, type JobRecord, jobLink } from "../jobs/record";
import { type MemoryLease, UploadCapacityError } from "../storage/buffer-budget";
import { type ObjectStorage, StorageError } from "../storage/object-storage";
import { type ByteSource, streamSource } from "../lib/byte-source";
import { type Inspection, type InspectionResult, blockBytesFor, inspectUpload, tooLarge } from "./inspect-stream";
import { StorageDeadline } from "./storage-deadline";
import { jobUnavailable, uploadFailure, uploadInterrupted, uploadStalled } from "./upload-problems";
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
  /**
   * Deadline of each wait on storage (STORAGE_TIMEOUT_MS): storage taking a block, storage
   * finishing after the last byte. Time spent waiting for the client never counts.
   */
  storageTimeoutMs?: number;
  /** A body (given as a stream) that sends nothing for this long ends with 408 upload-stalled. */
  idleTimeoutMs?: number;
  /** Where the upload's blocks are counted (the isolate's upload budget). */
  memory?: MemoryLease;
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
    // The request body broke off (the client went away): storage only saw the stream end.
    if (inspection?.sourceFailed() === true) return "client-error";
    // This isolate is busy, storage is fine.
    if (error instanceof UploadCapacityError) return "client-error";
    if (error instanceof StorageError) return error.retryable ? "failure" : "client-error";
    // Anything else is the request body failing (the client went away): not storage's fault.
    return "client-error";
  };
  let result: InspectionResult;
  let storing: Promise<unknown> | undefined;
  try {
    result = await (deps.guardStorage ?? unguarded)(async (guardSignal) => {
      const deadline = deps.storageTimeoutMs === undefined ? undefined : new StorageDeadline(deps.storageTimeoutMs);
      const source =
        file.body instanceof ReadableStream
          ? streamSource(file.body, { idleTimeoutMs: deps.idleTimeoutMs, onIdle: () => uploadStalled(deps.idleTimeoutMs ?? 0) })
          : file.body;
      inspection = inspectUpload(source, deps.maxUploadBytes, {
        contentLength: file.contentLength,
        blockBytes: blockBytesFor(file.contentLength ?? file.maxLength),
        memory: deps.memory,
        deadline,
      });
      const stored = deps.storage.put(key, inspection.readable, {
        contentLength: file.contentLength,
        maxLength: file.maxLength,
        contentType: "application/x-step",
        signal: deadline ? AbortSignal.any([guardSignal, deadline.signal]) : guardSignal,
      });
      stored.catch(() => undefined);
      storing = stored;
      // Whichever fails first ends the upload; once the last byte is handed over, storage has
      // one deadline to finish.
      const [inspected] = await Promise.all([
        inspection.result().then(async (value) => {
          await (deadline ? deadline.wait(stored) : stored);
          return value;
        }),
        stored,
      ]);
      return inspected;
    }, classify);
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      // Turned away before anything was written or read.
      await file.body.cancel("circuit open").catch(() => undefined);
      throw error;
    }
    // Read before aborting: the abort ends the body, which the inspection would judge too.
    const rejected = inspection?.failure() ?? (error instanceof ProblemError ? error : undefined);
    const interrupted = inspection?.sourceFailed() === true;
    await inspection?.abort("upload failed");
    // The adapter's own clean-up (aborting a multipart upload) first, then ours; both bounded.
    if (storing) await within(storing, deps.cleanupTimeoutMs ?? 10_000);
    await cleanUp(deps, key, log);
    // The inspection's verdict first; then a problem raised by the body's own parser.
    if (rejected) {
      log.info({ msg: "upload rejected", outcome: "rejected", status: rejected.status, reason: rejected.slug });
      throw rejected;
    }
    if (interrupted) throw uploadInterrupted(error, log);
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
  try {
    await deps.jobs.accept(record, reply);
  } catch (error) {
    // The model is stored but no job owns it. The answer may have been lost after the job was
    // recorded: then the job is used. Otherwise the object goes, and the client retries.
    const recorded = await deps.jobs.get(jobId).catch(() => null);
    if (recorded !== null) {
      log.warn({ msg: "job recorded, though its answer was lost", error: String(error) });
      return reply;
    }
    log.error({ msg: "could not record the job; removing the stored model", outcome: "error", error: String(error) });
    await cleanUp(deps, key, log);
    throw jobUnavailable();
  }
  return reply;
}

/** Waits for `work` to settle, at most `ms`; never throws. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((done) => {
    timer = setTimeout(done, ms);
  });
  await Promise.race([work.then(() => undefined, () => undefined), deadline]);
  if (timer !== undefined) clearTimeout(timer);
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
