import type { Logger } from "../lib/log";
import { ProblemError } from "../lib/problem";
import { acceptHeader } from "../ingest/inspect-stream";
import { sanitizeFilename } from "../ingest/sanitize-filename";
import { SNIFF_WINDOW_BYTES, sniffStep } from "../ingest/step-sniffer";
import type { JobDirectory } from "../jobs/client";
import { type AcceptedUpload, type JobRecord, jobLink } from "../jobs/record";
import { type MultipartSessions, type ObjectHead, type ObjectStorage, type PartRef, type StoredPart, StorageError } from "../storage/object-storage";
import { streamSource } from "../lib/byte-source";
import type { UploadSession } from "./session-record";
import { checkCompletion } from "./session-rules";
import { closedProblem } from "./problems";
import type { GuardedCall } from "./storage-calls";

export interface CompletionDeps {
  storage: ObjectStorage;
  multipart: MultipartSessions;
  jobs: JobDirectory;
  guarded: GuardedCall;
  log: Logger;
  requestId: string;
  now: () => Date;
}

/** Why a completion ended without a job: the session may be completed again, or not. */
export class CompletionFailed extends Error {
  constructor(
    readonly problem: unknown,
    readonly retryable: boolean,
  ) {
    super("completion failed");
  }
}

/**
 * Checks the parts against storage and the declared size, completes the store's multipart
 * upload, sniffs the first 64 KiB as a direct upload would (a refused model is deleted), and
 * records the job. Answers the 202 body and the parts that made the object.
 */
export async function completeSession(
  deps: CompletionDeps,
  session: UploadSession,
  confirmed: StoredPart[],
  named: PartRef[],
): Promise<{ reply: AcceptedUpload; parts: StoredPart[] }> {
  const { guarded, multipart } = deps;
  const key = session.objectKey;
  const retry = (problem: unknown) => new CompletionFailed(problem, true);
  // The store's "no such upload" and "invalid part" are answers, not failures: kept apart
  // from the guard's error mapping so the completion can act on them.
  const answer = async <T>(call: () => Promise<T>): Promise<T | StorageError> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof StorageError && (error.code === "no-such-upload" || error.code === "invalid-part")) return error;
      throw error;
    }
  };
  let listed: StoredPart[] | null | StorageError;
  try {
    listed = await guarded("list the parts", (signal) => answer(() => multipart.listParts(key, session.storageUploadId, { signal })));
  } catch (error) {
    throw retry(error);
  }
  // The store no longer knows the upload: an earlier completion may have joined it already.
  let joined = listed instanceof StorageError ? await objectComplete(deps, session) : false;
  if (listed instanceof StorageError && !joined) throw new CompletionFailed(closedProblem("aborted", "The storage no longer holds this upload."), false);
  const stored = listed instanceof StorageError || listed === null ? confirmed : listed;
  if (!joined) {
    const check = checkCompletion(stored, named, session.size, { partSize: session.partSize, partCount: session.partCount });
    if (!check.ok) throw retry(incomplete(check));
    let completed: ObjectHead | StorageError;
    try {
      completed = await guarded("complete the upload", (signal) => answer(() => multipart.complete(key, session.storageUploadId, check.parts, { signal })));
    } catch (error) {
      throw retry(error);
    }
    if (completed instanceof StorageError && completed.code === "invalid-part") throw retry(incomplete({ reason: "mismatch", mismatchedParts: [] }));
    joined = !(completed instanceof StorageError) || (await objectComplete(deps, session));
    if (!joined) throw new CompletionFailed(closedProblem("aborted", "The storage no longer holds this upload."), false);
  }

  let schema: string;
  try {
    schema = acceptHeader(sniffStep(await firstBytes(deps, key), session.size <= SNIFF_WINDOW_BYTES));
  } catch (error) {
    if (!(error instanceof ProblemError)) throw retry(error);
    // Refused exactly as a direct upload is: nothing of it is kept.
    await guarded("delete the refused model", () => deps.storage.delete(key)).catch((cleanup: unknown) => deps.log.error({ msg: "could not delete a refused session upload", key, error: String(cleanup) }));
    deps.log.info({ msg: "session upload rejected", outcome: "rejected", status: error.status, reason: error.slug });
    throw new CompletionFailed(error, false);
  }

  const reservation = await deps.jobs.reserve(session.jobId, session.projectId);
  if (reservation.state === "accepted") return { reply: reservation.reply, parts: stored };
  const at = deps.now().toISOString();
  const file = { name: sanitizeFilename(session.filename), size: session.size, sha256: session.sha256 ?? null, schema };
  const record: JobRecord = {
    jobId: session.jobId,
    projectId: session.projectId,
    status: "queued",
    file,
    objectKey: key,
    attempts: 0,
    notifications: [],
    requestId: deps.requestId,
    createdAt: at,
    updatedAt: at,
  };
  const reply: AcceptedUpload = {
    jobId: session.jobId,
    projectId: session.projectId,
    status: "queued",
    file,
    links: { self: jobLink(session.jobId) },
    upload: { uploadId: session.uploadId },
  };
  await deps.jobs.accept(record, reply);
  return { reply, parts: stored };
}

async function objectComplete(deps: CompletionDeps, session: UploadSession): Promise<boolean> {
  const head = await deps.guarded("read the model", () => deps.storage.head(session.objectKey));
  return head !== null && head.size === session.size;
}

async function firstBytes(deps: CompletionDeps, key: string): Promise<Uint8Array> {
  const object = await deps.guarded("read the model", () => deps.storage.get(key, { offset: 0, length: SNIFF_WINDOW_BYTES }));
  if (!object) throw new StorageError(`the completed object ${key} is missing`, true);
  const source = streamSource(object.body);
  try {
    const filled = await source.fill(new Uint8Array(SNIFF_WINDOW_BYTES), 0, SNIFF_WINDOW_BYTES);
    return filled.buffer.subarray(0, filled.end);
  } finally {
    source.release();
    await object.body.cancel().catch(() => undefined);
  }
}

function incomplete(check: { reason: string; missingParts?: number[]; mismatchedParts?: number[]; wrongSizeParts?: number[] }): ProblemError {
  if (check.reason === "missing") {
    const missing = check.missingParts ?? [];
    return new ProblemError({
      status: 400,
      slug: "upload-incomplete",
      title: "Upload Incomplete",
      detail: `Parts ${summarise(missing)} are missing from storage or from the list sent; upload or name them, then complete again.`,
      extensions: { missingParts: missing },
    });
  }
  if (check.reason === "wrong-size") {
    return new ProblemError({
      status: 400,
      slug: "upload-incomplete",
      title: "Upload Incomplete",
      detail: `Parts ${summarise(check.wrongSizeParts ?? [])} do not have their expected sizes; upload them again.`,
      extensions: { wrongSizeParts: check.wrongSizeParts ?? [] },
    });
  }
  const mismatched = check.mismatchedParts ?? [];
  return new ProblemError({
    status: 400,
    slug: "part-mismatch",
    title: "Part Mismatch",
    detail:
      mismatched.length > 0
        ? `The ETags of parts ${summarise(mismatched)} differ from what storage holds (or the parts are out of range); list the session and send its ETags.`
        : "Storage refused the parts named; list the session and send its ETags.",
    extensions: { mismatchedParts: mismatched },
  });
}

function summarise(numbers: number[]): string {
  const shown = numbers.slice(0, 20).join(", ");
  return numbers.length > 20 ? `${shown} and ${numbers.length - 20} more` : shown;
}
