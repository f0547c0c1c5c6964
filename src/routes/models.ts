import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/context";
import { mayAccessProject } from "../http/context";
import { ProblemError } from "../lib/problem";
import { validate } from "../http/validation";
import { type IncomingFile, processIfcUpload } from "../ingest/process-ifc-upload";
import { multipartBoundary, openMultipartFile } from "../ingest/multipart-file";
import { PROJECT_ID_PATTERN } from "../ingest/sanitize-filename";
import { idempotentJobId } from "../ingest/idempotency";

const params = z.object({
  projectId: z.string().regex(PROJECT_ID_PATTERN, "must match [A-Za-z0-9_-]{1,64}"),
});
const query = z.object({ filename: z.string().max(1024).optional() });
const headers = z.object({
  "idempotency-key": z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, "must be printable ASCII").optional(),
  "content-length": z.coerce.number().int().nonnegative().optional(),
});

export const models = new Hono<AppEnv>().post(
  "/:projectId/models",
  validate("param", params),
  validate("query", query),
  validate("header", headers),
  async (c) => {
    const { projectId } = c.req.valid("param");
    const { filename } = c.req.valid("query");
    const { "idempotency-key": idempotencyKey, "content-length": contentLength } = c.req.valid("header");
    if (!mayAccessProject(c.var.caller, projectId)) {
      throw new ProblemError({
        status: 403,
        slug: "forbidden",
        title: "Forbidden",
        detail: `The token does not grant access to project ${projectId}.`,
      });
    }
    const jobs = c.var.jobs;
    const jobId = idempotencyKey ? await idempotentJobId(projectId, idempotencyKey) : crypto.randomUUID();
    if (idempotencyKey) {
      const claim = await jobs.reserve(jobId, projectId);
      if (claim.state === "accepted") {
        await c.req.raw.body?.cancel();
        c.header("Idempotent-Replayed", "true");
        c.header("Location", claim.reply.links.self);
        return c.json(claim.reply, 202);
      }
      if (claim.state === "in-progress") {
        throw new ProblemError({
          status: 409,
          slug: "idempotency-conflict",
          title: "Conflict",
          detail: "An upload with this Idempotency-Key is still in progress; retry when it has finished.",
          headers: { "Retry-After": "5" },
        });
      }
    }
    const circuits = c.var.circuits;
    const storageTimeoutMs = c.var.config.resilience.storageTimeoutMs;
    try {
      // Before any byte of the body is read: an open storage breaker answers 503 at once.
      const permit = await circuits.admit("storage");
      try {
        const file = await incomingFile(c.req.raw, filename, contentLength);
        const reply = await processIfcUpload(
          {
            storage: c.var.storage,
            jobs,
            log: c.var.log,
            maxUploadBytes: c.var.config.maxUploadBytes,
            now: () => new Date(),
            guardStorage: (call, classify) => circuits.guard("storage", call, { permit, classify, timeoutMs: storageTimeoutMs }),
            // The clean-up after a failed write must not hold the 503 as long as a whole upload may take.
            cleanupTimeoutMs: Math.min(storageTimeoutMs, 10_000),
          },
          { projectId, jobId, requestId: c.var.requestId },
          file,
        );
        c.header("Location", reply.links.self);
        return c.json(reply, 202);
      } finally {
        // A half-open probe that never reached storage (the body was refused first) frees its slot.
        circuits.release(permit);
      }
    } catch (error) {
      if (idempotencyKey) await jobs.release(jobId);
      throw error;
    }
  },
);

async function incomingFile(
  request: Request,
  filename: string | undefined,
  contentLength: number | undefined,
): Promise<IncomingFile> {
  const body = request.body;
  if (!body) return { name: filename, body: new ReadableStream({ start: (c) => c.close() }), contentLength: 0 };
  const contentType = request.headers.get("content-type") ?? "";
  if (/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    const part = await openMultipartFile(body, multipartBoundary(contentType), "file");
    return { name: part.filename ?? filename, body: part.body, maxLength: contentLength };
  }
  if (/^multipart\//i.test(contentType)) {
    throw new ProblemError({
      status: 415,
      slug: "unsupported-content-type",
      title: "Unsupported Media Type",
      detail: "Send the model as the raw body or as multipart/form-data with a field named file.",
    });
  }
  return { name: filename, body, contentLength };
}
