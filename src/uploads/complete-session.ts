import type { Logger } from "../http/log";
import { ProblemError } from "../http/problem";
import { acceptHeader } from "../ingest/inspect-stream";
import { sanitizeFilename } from "../ingest/sanitize-filename";
import { SNIFF_WINDOW_BYTES, sniffStep } from "../ingest/step-sniffer";
import type { JobDirectory } from "../objects/job-directory";
import { type AcceptedUpload, type JobRecord, jobLink } from "../objects/job-record";
import { type MultipartSessions, type ObjectStorage, type PartRef, type StoredPart, StorageError } from "../storage/object-storage";
import { streamSource } from "../streams/byte-source";
import type { UploadSession } from "./session-record";
import { checkCompletion } from "./session-rules";
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
  let stored: StoredPart[];
  try {
    stored = (await guarded("list the parts", (signal) => multipart.listParts(key, session.storageUploadId, { signal }))) ?? confirmed;
  } catch (error) {
    // The store no longer knows the upload: an earlier completion may have finished it.
    if (!(await objectComplete(deps, session))) throw retry(error);
    stored = confirmed;
  }
  const plan = { partSize: session.partSize, partCount: session.partCount };
  const alreadyJoined = await isJoined(deps, session, stored);
  if (!alreadyJoined) {
    const check = checkCompletion(stored, named, session.size, plan);
    if (!check.ok) throw retry(incomplete(check));
    try {
      await guarded(
        "complete the upload",
        (signal) => multipart.complete(key, session.storageUploadId, check.parts, { signal }),
      );
    } catch (error) {
      if (error instanceof StorageError && error.code === "invalid-part") throw retry(incomplete({ reason: "mismatch", mismatchedParts: [] }));
      throw retry(error);
    }
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
  const file = { name: sanitizeFilename(session.filename), size: session.size, sha256: null, schema };
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
    ...(session.sha256 === undefined ? {} : { expectedSha256: session.sha256 }),
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

async function isJoined(deps: CompletionDeps, session: UploadSession, stored: StoredPart[]): Promise<boolean> {
  return stored.length > 0 ? false : objectComplete(deps, session);
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
