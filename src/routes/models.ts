import { createRoute, z } from "@hono/zod-openapi";
import { ProjectParams } from "../api/common";
import { AcceptedUploadSchema } from "../api/jobs";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { mayAccessProject } from "../http/context";
import { BEARER, openApiRouter, REQUEST_ID_HEADER } from "../http/openapi-app";
import { ProblemError } from "../lib/problem";
import { type IncomingFile, processIfcUpload } from "../ingest/process-ifc-upload";
import { uploadStalled } from "../ingest/upload-problems";
import { SCAN_BLOCK_BYTES, SMALL_SCAN_BLOCK_BYTES, multipartBoundary, openMultipartFile } from "../ingest/multipart-file";
import { isolateUploadSlots } from "../ingest/upload-slots";
import { MemoryLease, UploadCapacityError, isolateBufferBudget } from "../storage/buffer-budget";
import { type ByteSource, streamSource } from "../lib/byte-source";
import { type HeldKey, type KeyState, claimKey, fileFingerprint } from "../ingest/idempotency";
import { acceptedReply, replayFor } from "../ingest/key-replay";
import { durableIdempotencyKeys } from "../idempotency/client";

const query = z.object({
  filename: z.string().max(1024).optional().openapi({ param: { name: "filename", in: "query" }, description: "The model's file name for a raw body.", example: "duplex.ifc" }),
});
const headers = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII")
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description:
        "Retrying with the same key and the same file (name and bytes) replays the first reply instead of storing the model twice; another file under the key answers 422, a retry while the first request runs 409. Keys are kept for IDEMPOTENCY_TTL.",
    }),
  "content-length": z.coerce.number().int().nonnegative().optional().openapi({ param: { name: "content-length", in: "header" } }),
});

const binary = { type: "string" as const, format: "binary" };

const uploadModel = createRoute({
  method: "post",
  path: "/{projectId}/models",
  tags: ["Uploads"],
  summary: "Upload a model",
  description:
    "Streams an IFC (STEP) model to object storage in one request and queues its processing. Send the raw bytes (with `?filename=`) or multipart/form-data with a field `file`. Models above the edge body limit (100 MB on most plans) go through upload sessions.",
  security: BEARER,
  request: {
    params: ProjectParams,
    query,
    headers,
    body: {
      required: true,
      content: {
        "application/octet-stream": { schema: binary },
        "multipart/form-data": { schema: { type: "object", properties: { file: binary }, required: ["file"] } },
      },
    },
  },
  responses: {
    202: {
      description: "Stored and queued. `Location` is the job; poll it or wait for a notification.",
      headers: {
        Location: { description: "The job: /v1/jobs/{jobId}.", schema: { type: "string" } },
        "Idempotent-Replayed": { description: "`true` when this is the replay of an earlier reply under the same Idempotency-Key.", schema: { type: "string" } },
        ...REQUEST_ID_HEADER,
      },
      content: { "application/json": { schema: AcceptedUploadSchema } },
    },
    ...problemResponses(
      ...COMMON_PROBLEMS,
      "invalid-multipart",
      "upload-interrupted",
      "forbidden",
      "idempotency-conflict",
      "idempotency-key-mismatch",
      "payload-too-large",
      "not-ifc",
      "unsupported-content-type",
      "unsupported-schema",
      "invalid-step-header",
      "upload-stalled",
      "job-unavailable",
      "storage-unavailable",
      "upload-capacity",
      "circuit-open",
      "dependency-timeout",
    ),
  },
});

export const models = openApiRouter().openapi(
  uploadModel,
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
    const config = c.var.config;
    let jobId: string = crypto.randomUUID();
    let keyed: KeyState | undefined;
    if (idempotencyKey) {
      try {
        keyed = await claimKey({ keys: durableIdempotencyKeys(c.env.IDEMPOTENCY_KEYS), projectId, key: idempotencyKey, ttlMs: config.idempotencyTtlMs }, jobId);
      } catch (error) {
        await c.req.raw.body?.cancel().catch(() => undefined);
        throw error;
      }
      if (keyed.state === "held") {
        jobId = keyed.jobId;
        // The key's last owner died: if it had recorded its job, that job is the key's answer.
        const prior = keyed.previousJobId === undefined ? null : await jobs.get(keyed.previousJobId);
        if (prior) {
          const reply = acceptedReply(prior);
          const fingerprint = fileFingerprint(reply.file.name, reply.file.sha256 ?? "");
          await keyed.key.complete(fingerprint, reply);
          keyed = { state: "done", fingerprint, reply };
        } else {
          keyed.key.keepAlive();
        }
      }
    }
    const held: HeldKey | undefined = keyed?.state === "held" ? keyed.key : undefined;
    const circuits = c.var.circuits;
    const storageTimeoutMs = config.resilience.storageTimeoutMs;
    // Every buffer this upload holds outside its parts (pump blocks, scan buffer) is counted here.
    const memory = new MemoryLease(isolateBufferBudget(config.uploadBufferBytes));
    let releaseSlot: (() => void) | null = null;
    try {
      releaseSlot = isolateUploadSlots(config.maxConcurrentUploads).tryAcquire();
      if (releaseSlot === null) throw new UploadCapacityError(config.uploadBufferBytes);
      if (keyed?.state === "done") {
        // Storage plays no part in a replay: the body is only hashed.
        const file = await incomingFile(c.req.raw, filename, contentLength, config.uploadIdleTimeoutMs, memory);
        const reply = await replayFor(keyed, file, { maxUploadBytes: config.maxUploadBytes, idleTimeoutMs: config.uploadIdleTimeoutMs, memory });
        c.header("Idempotent-Replayed", "true");
        c.header("Location", reply.links.self);
        return c.json(reply, 202);
      }
      // Before any byte of the body is read: an open storage breaker answers 503 at once.
      const permit = await circuits.admit("storage");
      try {
        const file = await incomingFile(c.req.raw, filename, contentLength, config.uploadIdleTimeoutMs, memory);
        const reply = await processIfcUpload(
          {
            storage: c.var.storage,
            jobs,
            log: c.var.log,
            maxUploadBytes: config.maxUploadBytes,
            now: () => new Date(),
            // No deadline on the whole call: its length is the client's. The waits on storage
            // have one each (storageTimeoutMs); the client has the idle limit.
            guardStorage: (call, classify) => circuits.guard("storage", call, { permit, classify, timeoutMs: undefined }),
            storageTimeoutMs,
            memory,
            // The clean-up after a failed write must not hold the 503 as long as a whole upload may take.
            cleanupTimeoutMs: Math.min(storageTimeoutMs, 10_000),
          },
          { projectId, jobId, requestId: c.var.requestId },
          file,
        );
        // Not completed (the key's object unreachable): the key stays held, and a retry after
        // KEY_TAKEOVER_MS finds this job through it.
        if (held && !(await held.complete(fileFingerprint(reply.file.name, reply.file.sha256 ?? ""), reply).catch(() => false))) {
          c.var.log.warn({ msg: "idempotency key not completed", jobId });
        }
        c.header("Location", reply.links.self);
        return c.json(reply, 202);
      } finally {
        // A half-open probe that never reached storage (the body was refused first) frees its slot.
        circuits.release(permit);
      }
    } catch (error) {
      await held?.release();
      if (error instanceof UploadCapacityError) {
        await c.req.raw.body?.cancel().catch(() => undefined);
        throw uploadCapacity();
      }
      throw error;
    } finally {
      memory.release();
      releaseSlot?.();
    }
  },
);

const uploadCapacity = (): ProblemError =>
  new ProblemError({
    status: 503,
    slug: "upload-capacity",
    title: "Service Unavailable",
    detail: "This instance is storing as many uploads as its memory allows. Nothing was kept; retry in a moment.",
    headers: { "Retry-After": "2" },
  });

async function incomingFile(
  request: Request,
  filename: string | undefined,
  contentLength: number | undefined,
  idleTimeoutMs: number,
  memory: MemoryLease,
): Promise<IncomingFile> {
  const body = request.body;
  if (!body) return { name: filename, body: new ReadableStream({ start: (c) => c.close() }), contentLength: 0 };
  const contentType = request.headers.get("content-type") ?? "";
  // A body that sends nothing for the idle limit ends with 408, whichever parser is reading it.
  const source: ByteSource = streamSource(body, { idleTimeoutMs, onIdle: () => uploadStalled(idleTimeoutMs) });
  if (/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    const small = contentLength !== undefined && contentLength <= 8 * 1024 * 1024;
    const part = await openMultipartFile(source, multipartBoundary(contentType), "file", {
      bufferBytes: small ? SMALL_SCAN_BLOCK_BYTES : SCAN_BLOCK_BYTES,
      memory,
    });
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
  return { name: filename, body: source, contentLength };
}
