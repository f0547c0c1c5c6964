import { notFound } from "../lib/problem";
import type { StoredPart } from "../storage/object-storage";
import type { UploadSession } from "./session-record";
import type { UploadSessionObject } from "./session-object";
import type { ListingPage } from "./upload-index";

export type SessionStub = DurableObjectStub<UploadSessionObject>;

export const sessionStub = (namespace: Env["UPLOADS"], uploadId: string): SessionStub => namespace.get(namespace.idFromName(uploadId));

/**
 * The session, if it belongs to `projectId`. Another project's session answers exactly like a
 * missing one (404), so ids cannot be probed.
 */
export async function visibleSession(
  namespace: Env["UPLOADS"],
  projectId: string,
  uploadId: string,
): Promise<{ stub: SessionStub; session: UploadSession; parts: StoredPart[] }> {
  const stub = sessionStub(namespace, uploadId);
  const found = await stub.get();
  if (!found || found.session.projectId !== projectId) throw notFound(`No upload session ${uploadId} in project ${projectId}.`);
  return { stub, ...found };
}

export function listUploads(namespace: Env["PROJECTS"], projectId: string, limit: number, cursor: string | undefined): Promise<ListingPage> {
  return namespace.get(namespace.idFromName(projectId)).listUploads(limit, cursor, Date.now());
}

/** Derives the session id from (project, Idempotency-Key), so a retried create finds its session. */
export async function idempotentUploadId(projectId: string, key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`upload\n${projectId}\n${key}`)));
  const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
