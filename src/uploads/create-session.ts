import { ProblemError } from "../lib/problem";
import { tooLarge } from "../ingest/inspect-stream";
import { modelObjectKey, sanitizeFilename } from "../ingest/sanitize-filename";
import type { MultipartSessions } from "../storage/object-storage";
import type { SessionStub } from "./session-client";
import type { UploadSession } from "./session-record";
import { MAX_PART_SIZE, planParts } from "./session-rules";
import type { GuardedCall } from "./storage-calls";

export interface CreateRequest {
  projectId: string;
  uploadId: string;
  filename: string;
  size: number;
  sha256?: string;
  idempotent: boolean;
}

export interface CreateDeps {
  stub: SessionStub;
  multipart: MultipartSessions;
  guarded: GuardedCall;
  maxUploadBytes: number;
  ttlMs: number;
  now: () => Date;
}

/**
 * Opens the store's multipart upload and records the session. With an Idempotency-Key the
 * session id comes from the key: a retry finds the session made first and gets it again
 * (`replayed`), or 422 when it asks for another file.
 */
export async function createSession(deps: CreateDeps, request: CreateRequest): Promise<{ session: UploadSession; replayed: boolean }> {
  if (request.size > deps.maxUploadBytes) throw tooLarge(deps.maxUploadBytes);
  const plan = planParts(request.size);
  if (!plan) throw tooLarge(MAX_PART_SIZE * 10_000);
  if (request.idempotent) {
    const existing = await deps.stub.get();
    if (existing) return { session: sameFile(existing.session, request), replayed: true };
  }
  const jobId = crypto.randomUUID();
  const objectKey = modelObjectKey(request.projectId, jobId, sanitizeFilename(request.filename));
  const storageUploadId = await deps.guarded("start the upload", (signal) =>
    deps.multipart.create(objectKey, { contentType: "application/x-step", signal }),
  );
  const now = deps.now();
  const session: UploadSession = {
    uploadId: request.uploadId,
    projectId: request.projectId,
    filename: request.filename,
    objectKey,
    jobId,
    size: request.size,
    partSize: plan.partSize,
    partCount: plan.partCount,
    ...(request.sha256 === undefined ? {} : { sha256: request.sha256 }),
    storageUploadId,
    status: "open",
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.ttlMs).toISOString(),
    idempotent: request.idempotent,
  };
  const outcome = await deps.stub.create(session);
  if (outcome.created) return { session, replayed: false };
  // A parallel retry with the same key was first: its session stands, ours is dropped.
  await deps.guarded("abort the upload", (signal) => deps.multipart.abort(objectKey, storageUploadId, { signal })).catch(() => undefined);
  return { session: sameFile(outcome.session, request), replayed: true };
}

function sameFile(session: UploadSession, request: CreateRequest): UploadSession {
  if (session.projectId !== request.projectId || session.filename !== request.filename || session.size !== request.size || session.sha256 !== request.sha256) {
    throw new ProblemError({
      status: 422,
      slug: "idempotency-key-mismatch",
      title: "Idempotency Key Reused",
      detail: "This Idempotency-Key already created an upload session for another file; use a new key.",
    });
  }
  return session;
}
