import { createRoute } from "@hono/zod-openapi";
import { AcceptedUploadSchema } from "../api/jobs";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { BEARER, REQUEST_ID_HEADER } from "../http/openapi-app";
import {
  completeBody,
  createSessionBody,
  createdSessionReply,
  idempotencyHeaders,
  listQuery,
  listReply,
  partHeaders,
  partParams,
  partReply,
  partUrlReply,
  projectParams,
  sessionParams,
  sessionReply,
} from "../uploads/schemas";

/** The upload-session routes as /openapi.json describes them; handlers in uploads.ts. */

const common = { tags: ["Uploads"], security: BEARER };
const json = <T>(schema: T) => ({ "application/json": { schema } });
const STORAGE = ["storage-unavailable", "circuit-open", "dependency-timeout"] as const;
const LOCATION = { Location: { description: "The resource created or the job.", schema: { type: "string" as const } } };

export const createUpload = createRoute({
  ...common,
  method: "post",
  path: "/{projectId}/uploads",
  summary: "Start an upload session",
  description:
    "For models above the edge body limit, and resumable uploads: the service picks the part size (8 to 95 MiB, at most 10 000 parts). Sessions expire after UPLOAD_SESSION_TTL; an alarm aborts the storage upload then.",
  request: { params: projectParams, headers: idempotencyHeaders, body: { required: true, content: json(createSessionBody) } },
  responses: {
    201: { description: "The session; `Location` is its URL.", headers: { ...LOCATION, ...REQUEST_ID_HEADER }, content: json(createdSessionReply) },
    ...problemResponses(...COMMON_PROBLEMS, "http-error", "unsupported-content-type", "forbidden", "payload-too-large", "idempotency-key-mismatch", "not-implemented", ...STORAGE),
  },
});

export const listUploadsRoute = createRoute({
  ...common,
  method: "get",
  path: "/{projectId}/uploads",
  summary: "List a project's upload sessions",
  request: { params: projectParams, query: listQuery },
  responses: {
    200: { description: "One page of sessions, newest first.", content: json(listReply) },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden"),
  },
});

export const getUpload = createRoute({
  ...common,
  method: "get",
  path: "/{projectId}/uploads/{uploadId}",
  summary: "Read an upload session",
  description: "Its status and the parts storage holds: what a client that was interrupted needs to send only the missing parts.",
  request: { params: sessionParams },
  responses: {
    200: { description: "The session.", content: json(sessionReply) },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden", "not-found", "upload-closed", ...STORAGE),
  },
});

export const deleteUpload = createRoute({
  ...common,
  method: "delete",
  path: "/{projectId}/uploads/{uploadId}",
  summary: "Abort an upload session",
  request: { params: sessionParams },
  responses: {
    204: { description: "Aborted (also when it already was)." },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden", "not-found", "upload-closed"),
  },
});

export const partTarget = createRoute({
  ...common,
  method: "get",
  path: "/{projectId}/uploads/{uploadId}/parts/{partNumber}",
  summary: "Where to send a part",
  description: "With STORAGE_DRIVER=s3 a presigned UploadPart URL (the bytes go straight to the bucket); otherwise this service's part endpoint and the headers to send.",
  request: { params: partParams },
  responses: {
    200: { description: "The part's target.", content: json(partUrlReply) },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden", "not-found", "upload-closed", "invalid-part", "not-implemented"),
  },
});

export const putPart = createRoute({
  ...common,
  method: "put",
  path: "/{projectId}/uploads/{uploadId}/parts/{partNumber}",
  summary: "Send a part (service part endpoint)",
  description: "Every part but the last is exactly `partSize`; the last is the rest.",
  request: {
    params: partParams,
    headers: partHeaders,
    body: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
  },
  responses: {
    200: { description: "Stored; the ETag (also in the ETag header) goes into the completion.", headers: { ETag: { description: "The part's ETag.", schema: { type: "string" } } }, content: json(partReply) },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden", "not-found", "upload-closed", "invalid-part", "length-required", "upload-interrupted", "upload-stalled", "upload-capacity", ...STORAGE),
  },
});

export const completeUpload = createRoute({
  ...common,
  method: "post",
  path: "/{projectId}/uploads/{uploadId}/complete",
  summary: "Complete an upload session",
  description:
    "Checks the parts against storage and the declared size, joins them, reads the first 64 KiB like a direct upload (415/422, the object is deleted) and answers the job, as a direct upload does. Completing again answers the same job. An Idempotency-Key is bound to the session: the same key on another session (or a direct upload) answers 422.",
  request: { params: sessionParams, headers: idempotencyHeaders, body: { required: true, content: json(completeBody) } },
  responses: {
    202: { description: "The job; `Location` is its URL.", headers: { ...LOCATION, ...REQUEST_ID_HEADER }, content: json(AcceptedUploadSchema) },
    ...problemResponses(
      ...COMMON_PROBLEMS,
      "http-error",
      "unsupported-content-type",
      "forbidden",
      "not-found",
      "upload-closed",
      "upload-completing",
      "idempotency-conflict",
      "idempotency-key-mismatch",
      "upload-incomplete",
      "part-mismatch",
      "not-ifc",
      "unsupported-schema",
      "invalid-step-header",
      "job-unavailable",
      ...STORAGE,
    ),
  },
});
