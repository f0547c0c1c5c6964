import type { AcceptedUpload } from "../jobs/record";
import type { StoredPart } from "../storage/object-storage";

/** `completing` is internal (shown as open): a completion holds the session for a while. */
export type SessionStatus = "open" | "completing" | "completed" | "aborted" | "expired";
export type PublicStatus = "open" | "completed" | "aborted" | "expired";

export interface UploadSession {
  uploadId: string;
  projectId: string;
  /** As the client named it (the job gets the sanitised name). */
  filename: string;
  objectKey: string;
  /** Chosen at creation: the object key names it. */
  jobId: string;
  size: number;
  partSize: number;
  partCount: number;
  /** Declared by the client; processing compares it with what it computes. */
  sha256?: string;
  /** The store's multipart upload id. */
  storageUploadId: string;
  status: SessionStatus;
  createdAt: string;
  expiresAt: string;
  /** The 202 of the completion, replayed to every later completion. */
  reply?: AcceptedUpload;
  /** Whether an Idempotency-Key made this session (its id then derives from the key). */
  idempotent: boolean;
}

/** POST .../uploads 201. */
export interface CreatedSessionView {
  uploadId: string;
  projectId: string;
  filename: string;
  size: number;
  partSize: number;
  partCount: number;
  expiresAt: string;
  links: { self: string };
}

/** GET .../uploads/{uploadId}. */
export interface SessionView {
  uploadId: string;
  projectId: string;
  filename: string;
  status: PublicStatus;
  size: number;
  partSize: number;
  partCount: number;
  parts: StoredPart[];
  createdAt: string;
  expiresAt: string;
  jobId?: string;
  links: { self: string; job?: string };
}

/** One row of GET /v1/projects/{projectId}/uploads. */
export interface SessionListing {
  uploadId: string;
  filename: string;
  status: PublicStatus;
  size: number;
  createdAt: string;
  expiresAt: string;
  jobId?: string;
}

export const sessionLink = (projectId: string, uploadId: string): string => `/v1/projects/${projectId}/uploads/${uploadId}`;

export function publicStatus(session: Pick<UploadSession, "status" | "expiresAt">, now: number): PublicStatus {
  if (session.status === "completing") return "open";
  if (session.status === "open" && Date.parse(session.expiresAt) <= now) return "expired";
  return session.status;
}

export function createdView(session: UploadSession): CreatedSessionView {
  return {
    uploadId: session.uploadId,
    projectId: session.projectId,
    filename: session.filename,
    size: session.size,
    partSize: session.partSize,
    partCount: session.partCount,
    expiresAt: session.expiresAt,
    links: { self: sessionLink(session.projectId, session.uploadId) },
  };
}

export function listingOf(session: UploadSession, now: number): SessionListing {
  const status = publicStatus(session, now);
  return {
    uploadId: session.uploadId,
    filename: session.filename,
    status,
    size: session.size,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    ...(status === "completed" ? { jobId: session.jobId } : {}),
  };
}
