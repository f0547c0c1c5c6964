import type { MemoryLease } from "../storage/buffer-budget";
import { type AcceptedUpload, type JobRecord, jobLink } from "../jobs/record";
import { digestBody } from "./body-digest";
import { fileFingerprint, keyMismatch } from "./idempotency";
import type { IncomingFile } from "./process-ifc-upload";
import { sanitizeFilename } from "./sanitize-filename";

export interface ReplayLimits {
  maxUploadBytes: number;
  idleTimeoutMs: number;
  memory?: MemoryLease;
}

/**
 * A direct upload under a key that already answered: the first reply when this is the same
 * file (name and SHA-256), else 422. The body is read only to hash it; nothing is stored.
 */
export async function replayFor(done: { fingerprint: string; reply: AcceptedUpload }, file: IncomingFile, limits: ReplayLimits): Promise<AcceptedUpload> {
  const name = sanitizeFilename(file.name);
  // Another name (or a key first used for a session) is a mismatch whatever the bytes.
  if (!done.fingerprint.startsWith("file:") || !done.fingerprint.endsWith(`:${name}`)) {
    await file.body.cancel("idempotency key mismatch").catch(() => undefined);
    throw keyMismatch("another file name or another endpoint");
  }
  const { sha256 } = await digestBody(file.body, limits.maxUploadBytes, { idleTimeoutMs: limits.idleTimeoutMs, memory: limits.memory });
  if (fileFingerprint(name, sha256) !== done.fingerprint) throw keyMismatch("a body with another SHA-256");
  return done.reply;
}

/** The reply a recorded job was accepted with, for a key whose owner died before completing it. */
export function acceptedReply(record: JobRecord): AcceptedUpload {
  return { jobId: record.jobId, projectId: record.projectId, status: "queued", file: record.file, links: { self: jobLink(record.jobId) } };
}
