import type { Logger } from "../http/log";
import { ProblemError } from "../http/problem";
import type { JobDirectory } from "../objects/job-directory";
import { type AcceptedUpload, type JobRecord, jobLink } from "../objects/job-record";
import { type ObjectStorage, StorageError } from "../storage/object-storage";
import { inspectUpload, tooLarge } from "./inspect-stream";
import { modelObjectKey, sanitizeFilename } from "./sanitize-filename";

export interface UploadDeps {
  storage: ObjectStorage;
  jobs: JobDirectory;
  log: Logger;
  maxUploadBytes: number;
  now: () => Date;
}

export interface UploadTarget {
  projectId: string;
  jobId: string;
  requestId: string;
}

export interface IncomingFile {
  /** As the client named it; sanitised here. */
  name: string | undefined;
  body: ReadableStream<Uint8Array>;
  /** Exact length of `body` when known (a raw upload with Content-Length). */
  contentLength?: number;
}

/**
 * The seed's entry point: streams one IFC file into storage through the STEP sniffer,
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
  const inspection = inspectUpload(file.body, deps.maxUploadBytes, file.contentLength);
  const started = Date.now();
  try {
    await deps.storage.put(key, inspection.readable, { contentLength: file.contentLength, contentType: "application/x-step" });
    await inspection.result();
  } catch (error) {
    await deps.storage.delete(key).catch((cleanup: unknown) =>
      log.error({ msg: "could not remove a partial upload", key, error: String(cleanup) }),
    );
    // The inspection's verdict first; then a problem raised by the body's own parser.
    const rejected = inspection.failure() ?? (error instanceof ProblemError ? error : undefined);
    if (rejected) {
      log.info({ msg: "upload rejected", outcome: "rejected", status: rejected.status, reason: rejected.slug });
      throw rejected;
    }
    throw uploadFailure(error, log, deps.storage.driver);
  }
  const result = await inspection.result();
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

function uploadFailure(error: unknown, log: Logger, driver: string): ProblemError {
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
    if (error.code === "credentials") {
      // Retrying will not help until an operator fixes the storage settings, so no Retry-After.
      return new ProblemError({
        status: 503,
        slug: "storage-unavailable",
        title: "Storage Unavailable",
        detail:
          "The model could not be stored: the storage service rejected this service's credentials or permissions. " +
          "Nothing was kept; the operators have to fix the storage settings.",
      });
    }
    return new ProblemError({
      status: 503,
      slug: "storage-unavailable",
      title: "Storage Unavailable",
      detail: "The model could not be stored right now. Nothing was kept; retry later.",
      headers: { "Retry-After": "5" },
    });
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
