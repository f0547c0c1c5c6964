import { openAsBlob } from "node:fs";
import { ApiError, type AcceptedUpload, type IngestClient, type UploadSessionState } from "../client";
import { counted, type FileProgress } from "./progress";
import type { LocalFile, SessionStore } from "./upload-state";

export interface SessionUploadResult {
  accepted: AcceptedUpload;
  uploadId: string;
  /** Parts the service already had from an earlier, interrupted run. */
  partsResumed: number;
  partsSent: number;
}

export interface SessionUploadOptions {
  projectId: string;
  parallel: number;
  store: SessionStore;
  /** Called once the session is known, with the bytes the service already has. */
  onStart(session: { uploadId: string; partCount: number; resumedBytes: number; resumedParts: number }): FileProgress;
  log(line: string): void;
}

const PART_ATTEMPTS = 4;

/**
 * Sends a file through an upload session: parts in parallel, straight from disk, and on a
 * second run only the parts the session listing does not have yet.
 */
export async function uploadInSession(client: IngestClient, file: LocalFile, options: SessionUploadOptions): Promise<SessionUploadResult> {
  const { projectId, store } = options;
  const serviceUrl = client.baseUrl;
  let state: UploadSessionState | undefined;
  const saved = await store.load(serviceUrl, projectId, file);
  if (saved) {
    state = await client.getUpload(projectId, saved.uploadId).catch((error: unknown) => {
      if (error instanceof ApiError && (error.status === 404 || error.status === 410)) return undefined;
      throw error;
    });
    if (state?.status === "completed" && state.jobId) {
      // Completed by a run that was killed before it could say so: the same job, nothing re-sent.
      const job = await client.getJob(state.jobId);
      await store.forget(serviceUrl, projectId, file);
      return { accepted: { jobId: job.jobId, projectId, status: "queued", file: job.file, links: { self: `/v1/jobs/${job.jobId}` } }, uploadId: state.uploadId, partsResumed: state.partCount, partsSent: 0 };
    }
    if (state && (state.status !== "open" || state.size !== file.size)) state = undefined;
  }
  if (!state) {
    const created = await client.createUpload(projectId, { filename: file.name, size: file.size });
    await store.save(
      { uploadId: created.uploadId, projectId, serviceUrl, path: file.path, size: file.size, mtimeMs: file.mtimeMs, partSize: created.partSize, partCount: created.partCount, createdAt: new Date().toISOString() },
      file,
    );
    state = { uploadId: created.uploadId, status: "open", size: created.size, partSize: created.partSize, partCount: created.partCount, parts: [] };
  }
  const session = state;
  const etags = new Map<number, string>();
  for (const part of session.parts) if (part.size === partLength(session, part.partNumber)) etags.set(part.partNumber, part.etag);
  const resumedBytes = [...etags.keys()].reduce((sum, n) => sum + partLength(session, n), 0);
  const resumedParts = etags.size;
  if (etags.size > 0) options.log(`${file.name}: resuming upload ${session.uploadId}, ${etags.size} of ${session.partCount} parts already sent`);
  const progress = options.onStart({ uploadId: session.uploadId, partCount: session.partCount, resumedBytes, resumedParts });

  const blob = await openAsBlob(file.path);
  const pending = Array.from({ length: session.partCount }, (_, i) => i + 1).filter((n) => !etags.has(n));
  let sent = 0;
  const worker = async (): Promise<void> => {
    for (let n = pending.shift(); n !== undefined; n = pending.shift()) {
      etags.set(n, await sendPart(client, projectId, session, n, blob, progress));
      sent++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, pending.length)) }, worker));

  const parts = [...etags].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
  // Keyed by the session, so completing again after a crash replays the same job.
  const accepted = await client.completeUpload(projectId, session.uploadId, parts, `upload-session-${session.uploadId}`);
  await store.forget(serviceUrl, projectId, file);
  return { accepted, uploadId: session.uploadId, partsResumed: resumedParts, partsSent: sent };
}

function partLength(session: { size: number; partSize: number; partCount: number }, partNumber: number): number {
  return partNumber < session.partCount ? session.partSize : session.size - session.partSize * (session.partCount - 1);
}

async function sendPart(client: IngestClient, projectId: string, session: UploadSessionState, n: number, blob: Blob, progress: FileProgress): Promise<string> {
  const start = (n - 1) * session.partSize;
  const size = partLength(session, n);
  for (let attempt = 1; ; attempt++) {
    let sentBytes = 0;
    try {
      const target = await client.partTarget(projectId, session.uploadId, n);
      const body = counted(blob.slice(start, start + size).stream(), (bytes) => {
        sentBytes += bytes;
        progress.add(bytes);
      });
      return await client.sendPart(target, body, size);
    } catch (error) {
      progress.takeBack(sentBytes);
      const retryable = !(error instanceof ApiError) || error.status >= 500 || error.status === 408 || error.status === 429;
      if (!retryable || attempt >= PART_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(8000, 250 * 2 ** attempt)));
    }
  }
}
