/** zod schemas of the upload-session routes (requests and replies), shared with the OpenAPI document. */
import { z } from "@hono/zod-openapi";
import { PROJECT_ID_PATTERN } from "../ingest/sanitize-filename";
import { MAX_PARTS } from "./session-rules";
import { decodeCursor } from "./upload-index";

export const projectParams = z.object({
  projectId: z.string().regex(PROJECT_ID_PATTERN, "must match [A-Za-z0-9_-]{1,64}"),
});
export const sessionParams = projectParams.extend({
  uploadId: z.guid({ message: "must be an upload id (UUID)" }).openapi({ example: "3b1f0a52-8c7e-4d19-9f6a-0e2d4c5b6a71" }),
});
export const partParams = sessionParams.extend({
  partNumber: z.coerce.number().int("must be a whole number").min(1, "parts are numbered from 1").max(MAX_PARTS, `parts are numbered up to ${MAX_PARTS}`),
});

export const idempotencyHeaders = z.object({
  "idempotency-key": z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, "must be printable ASCII").optional(),
});

export const createSessionBody = z.object({
  filename: z.string().min(1).max(1024).openapi({ example: "tower.ifc" }),
  size: z.number().int("must be a whole number of bytes").positive("must be at least 1 byte").openapi({ example: 1_073_741_824 }),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")
    .transform((hex) => hex.toLowerCase())
    .optional()
    .openapi({ description: "If given, the processing pass checks the stored model against it (checksum_mismatch)." }),
}).openapi("CreateUploadSession");

export const partHeaders = z.object({
  "content-length": z.coerce.number().int().nonnegative().optional(),
});

export const completeBody = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(MAX_PARTS), etag: z.string().min(1).max(256) }))
    .max(MAX_PARTS),
}).openapi("CompleteUploadSession");

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .max(200)
    .refine((cursor) => decodeCursor(cursor) !== null, "is not a cursor from an earlier page")
    .optional(),
});

const storedPart = z.object({ partNumber: z.number().int(), size: z.number().int(), etag: z.string() }).openapi("UploadedPart");
const status = z.enum(["open", "completed", "aborted", "expired"]);

export const createdSessionReply = z.object({
  uploadId: z.string(),
  projectId: z.string(),
  filename: z.string(),
  size: z.number().int(),
  partSize: z.number().int(),
  partCount: z.number().int(),
  expiresAt: z.string(),
  links: z.object({ self: z.string() }),
}).openapi("CreatedUploadSession", { description: "partSize is chosen by the service: every part but the last is exactly partSize." });

export const sessionReply = z.object({
  uploadId: z.string(),
  projectId: z.string(),
  filename: z.string(),
  status,
  size: z.number().int(),
  partSize: z.number().int(),
  partCount: z.number().int(),
  parts: z.array(storedPart),
  createdAt: z.string(),
  expiresAt: z.string(),
  jobId: z.string().optional(),
  links: z.object({ self: z.string(), job: z.string().optional() }),
}).openapi("UploadSession", { description: "An open session's parts come from the storage, so a client that crashed can resume." });

export const partUrlReply = z.object({
  url: z.string(),
  method: z.literal("PUT"),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
}).openapi("PartTarget", { description: "A presigned S3 UploadPart URL (STORAGE_DRIVER=s3), or this service's part endpoint with the headers to send." });

export const partReply = storedPart;

export const listReply = z.object({
  uploads: z.array(
    z.object({
      uploadId: z.string(),
      filename: z.string(),
      status,
      size: z.number().int(),
      createdAt: z.string(),
      expiresAt: z.string(),
      jobId: z.string().optional(),
    }),
  ),
  nextCursor: z.string().optional(),
}).openapi("UploadSessionList", { description: "Newest first; pass nextCursor back as cursor for the next page." });
