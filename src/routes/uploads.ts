import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { mayAccessProject } from "../http/context";
import { ProblemError } from "../lib/problem";
import { openApiRouter } from "../http/openapi-app";
import { claimKey, keyMismatch, sessionFingerprint } from "../ingest/idempotency";
import { durableIdempotencyKeys } from "../idempotency/client";
import { type AcceptedUpload, jobLink } from "../jobs/record";
import type { PartRef } from "../storage/object-storage";
import { CompletionFailed, completeSession } from "../uploads/complete-session";
import { createSession } from "../uploads/create-session";
import { partInRange, uploadPart } from "../uploads/part-upload";
import { closedProblem } from "../uploads/problems";
import { idempotentUploadId, listUploads, sessionStub, visibleSession } from "../uploads/session-client";
import { type SessionView, createdView, publicStatus, sessionLink } from "../uploads/session-record";
import { guardedStorage, multipartOf } from "../uploads/storage-calls";
import { completeUpload, createUpload, deleteUpload, getUpload, listUploadsRoute, partTarget, putPart } from "./upload-routes";

function granted(c: Context<AppEnv>, projectId: string): void {
  if (!mayAccessProject(c.var.caller, projectId)) {
    throw new ProblemError({ status: 403, slug: "forbidden", title: "Forbidden", detail: `The token does not grant access to project ${projectId}.` });
  }
}

const guardedFor = (c: Context<AppEnv>) => guardedStorage(c.var.circuits, c.var.config.resilience.storageTimeoutMs, c.var.log);

/** Resumable upload sessions: parts straight to S3 (presigned) or through the part endpoint. */
export const uploads = openApiRouter()
  .openapi(createUpload, async (c) => {
    const { projectId } = c.req.valid("param");
    granted(c, projectId);
    const { "idempotency-key": key } = c.req.valid("header");
    const body = c.req.valid("json");
    const uploadId = key ? await idempotentUploadId(projectId, key) : crypto.randomUUID();
    const { session, replayed } = await createSession(
      {
        stub: sessionStub(c.env.UPLOADS, uploadId),
        multipart: multipartOf(c.var.storage),
        guarded: guardedFor(c),
        maxUploadBytes: c.var.config.maxUploadBytes,
        ttlMs: c.var.config.uploads.sessionTtlMs,
        now: () => new Date(),
      },
      { projectId, uploadId, filename: body.filename, size: body.size, sha256: body.sha256, idempotent: key !== undefined },
    );
    const view = createdView(session);
    c.header("Location", view.links.self);
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(view, 201);
  })
  .openapi(listUploadsRoute, async (c) => {
    const { projectId } = c.req.valid("param");
    granted(c, projectId);
    const { limit, cursor } = c.req.valid("query");
    return c.json(await listUploads(c.env.PROJECTS, projectId, limit, cursor), 200);
  })
  .openapi(getUpload, async (c) => {
    const { projectId, uploadId } = c.req.valid("param");
    granted(c, projectId);
    const { session, parts: confirmed } = await visibleSession(c.env.UPLOADS, projectId, uploadId);
    const status = publicStatus(session, Date.now());
    const multipart = multipartOf(c.var.storage);
    // An open session's parts come from the store: what a crashed client needs to resume.
    const parts =
      status === "open"
        ? ((await guardedFor(c)("list the parts", (signal) => multipart.listParts(session.objectKey, session.storageUploadId, { signal }))) ?? confirmed)
        : confirmed;
    const view: SessionView = {
      uploadId,
      projectId,
      filename: session.filename,
      status,
      size: session.size,
      partSize: session.partSize,
      partCount: session.partCount,
      parts,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      ...(status === "completed" ? { jobId: session.jobId } : {}),
      links: { self: sessionLink(projectId, uploadId), ...(status === "completed" ? { job: jobLink(session.jobId) } : {}) },
    };
    return c.json(view, 200);
  })
  .openapi(deleteUpload, async (c) => {
    const { projectId, uploadId } = c.req.valid("param");
    granted(c, projectId);
    const { stub, session } = await visibleSession(c.env.UPLOADS, projectId, uploadId);
    const closed = await stub.close(Date.now());
    if (!closed.closed) {
      if (closed.status === "aborted") return c.body(null, 204);
      throw closedProblem(closed.status);
    }
    try {
      const multipart = multipartOf(c.var.storage);
      await guardedFor(c)("abort the upload", (signal) => multipart.abort(session.objectKey, session.storageUploadId, { signal }));
      await stub.cleanedUp();
    } catch (error) {
      // The session is closed either way; its alarm keeps trying to abort the store's upload.
      c.var.log.warn({ msg: "storage abort of a deleted session deferred to its alarm", component: "uploads", error: String(error) });
    }
    return c.body(null, 204);
  })
  .openapi(partTarget, async (c) => {
    const { projectId, uploadId, partNumber } = c.req.valid("param");
    granted(c, projectId);
    const { session } = await visibleSession(c.env.UPLOADS, projectId, uploadId);
    const status = publicStatus(session, Date.now());
    if (status !== "open") throw closedProblem(status);
    partInRange(session, partNumber);
    const multipart = multipartOf(c.var.storage);
    if (multipart.presignPart) {
      const ttl = c.var.config.uploads.partUrlTtlSeconds;
      const url = await multipart.presignPart(session.objectKey, session.storageUploadId, partNumber, ttl);
      const expiresAt = new Date(Math.min(Date.now() + ttl * 1000, Date.parse(session.expiresAt))).toISOString();
      return c.json({ url, method: "PUT" as const, headers: {}, expiresAt }, 200);
    }
    const url = new URL(`${sessionLink(projectId, uploadId)}/parts/${partNumber}`, c.req.url).toString();
    const headers = { authorization: c.req.header("authorization") ?? "", "content-type": "application/octet-stream" };
    return c.json({ url, method: "PUT" as const, headers, expiresAt: session.expiresAt }, 200);
  })
  .openapi(putPart, async (c) => {
    const { projectId, uploadId, partNumber } = c.req.valid("param");
    granted(c, projectId);
    const { stub, session } = await visibleSession(c.env.UPLOADS, projectId, uploadId);
    const status = publicStatus(session, Date.now());
    if (status !== "open") {
      await c.req.raw.body?.cancel().catch(() => undefined);
      throw closedProblem(status);
    }
    const part = await uploadPart(multipartOf(c.var.storage), guardedFor(c), session, partNumber, c.req.raw.body, c.req.valid("header")["content-length"]);
    const after = await stub.confirmPart(part, Date.now());
    if (after !== "open" && after !== "completing") throw closedProblem(after);
    c.header("ETag", part.etag);
    return c.json(part, 200);
  })
  .openapi(completeUpload, async (c) => {
    const { projectId, uploadId } = c.req.valid("param");
    granted(c, projectId);
    const { "idempotency-key": key } = c.req.valid("header");
    const found = await visibleSession(c.env.UPLOADS, projectId, uploadId);
    const named = c.req.valid("json").parts;
    const answer = ({ reply, replayed }: Completed) => {
      c.header("Location", reply.links.self);
      if (replayed) c.header("Idempotent-Replayed", "true");
      return c.json(reply, 202);
    };
    if (!key) return answer(await completeOnce(c, found, named));
    const keyed = await claimKey({ keys: durableIdempotencyKeys(c.env.IDEMPOTENCY_KEYS), projectId, key, ttlMs: c.var.config.idempotencyTtlMs }, found.session.jobId);
    if (keyed.state === "done") {
      // Decided before the session is touched: another request under the key changes nothing.
      if (keyed.fingerprint !== sessionFingerprint(uploadId)) throw keyMismatch("another upload session or endpoint");
      return answer({ reply: keyed.reply, replayed: true });
    }
    keyed.key.keepAlive();
    let completed: Completed;
    try {
      completed = await completeOnce(c, found, named);
    } catch (error) {
      await keyed.key.release();
      throw error;
    }
    await keyed.key.complete(sessionFingerprint(uploadId), completed.reply).catch(() => false);
    return answer(completed);
  });

interface Completed {
  reply: AcceptedUpload;
  replayed: boolean;
}

/** Completes the session once: a session completed before answers its job again. */
async function completeOnce(c: Context<AppEnv>, found: Awaited<ReturnType<typeof visibleSession>>, named: PartRef[]): Promise<Completed> {
  const { stub, parts: confirmed } = found;
  const claim = await stub.beginCompletion(Date.now());
  if (claim.state === "done") return { reply: claim.reply, replayed: true };
  if (claim.state === "busy") {
    throw new ProblemError({
      status: 409,
      slug: "upload-completing",
      title: "Conflict",
      detail: "This upload session is being completed by another request; retry to get its job.",
      headers: { "Retry-After": "5" },
    });
  }
  if (claim.state === "closed") throw closedProblem(claim.status);
  const storage = c.var.storage;
  try {
    const done = await completeSession(
      { storage, multipart: multipartOf(storage), jobs: c.var.jobs, guarded: guardedFor(c), log: c.var.log, requestId: c.var.requestId, now: () => new Date() },
      claim.session,
      confirmed,
      named,
    );
    await stub.endCompletion({ kind: "accepted", reply: done.reply, parts: done.parts });
    return { reply: done.reply, replayed: false };
  } catch (error) {
    if (!(error instanceof CompletionFailed)) {
      await stub.endCompletion({ kind: "retry" });
      throw error;
    }
    await stub.endCompletion(error.retryable ? { kind: "retry" } : { kind: "rejected" });
    throw error.problem;
  }
}
