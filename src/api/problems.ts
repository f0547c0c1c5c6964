import { z } from "@hono/zod-openapi";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { PROBLEM_BASE } from "../lib/problem";

/** Every problem type the API answers with: the reference page lists them, routes name theirs. */
export const PROBLEM_TYPES = {
  "validation-failed": { status: 400, title: "Bad Request", summary: "A parameter, header or JSON body failed validation; `errors` lists each field." },
  "invalid-multipart": { status: 400, title: "Invalid Multipart Body", summary: "The multipart/form-data body is malformed or has no `file` field." },
  "upload-interrupted": { status: 400, title: "Upload Interrupted", summary: "The body ended before the declared length; nothing was stored." },
  "invalid-part": { status: 400, title: "Invalid Part", summary: "A part of the wrong size, out of range, or for a session that has no such part." },
  "upload-incomplete": { status: 400, title: "Upload Incomplete", summary: "Completing named or found fewer parts than the session needs (`missingParts`, `wrongSizeParts`)." },
  "part-mismatch": { status: 400, title: "Part Mismatch", summary: "The ETags sent to complete differ from what storage holds (`mismatchedParts`)." },
  "http-error": { status: 400, title: "Request Error", summary: "The request was rejected before it reached a route (e.g. a malformed JSON body)." },
  unauthorized: { status: 401, title: "Unauthorized", summary: "No bearer token, or an invalid or expired one." },
  forbidden: { status: 403, title: "Forbidden", summary: "The token does not grant this project, or the route needs an operator token (projects `*`)." },
  "not-found": { status: 404, title: "Not Found", summary: "No such resource, or it belongs to another project (answered alike, so ids cannot be probed)." },
  "idempotency-conflict": { status: 409, title: "Conflict", summary: "An upload with this Idempotency-Key is still in progress." },
  "upload-closed": { status: 409, title: "Upload Session Closed", summary: "The session is completed, aborted or expired (`uploadStatus`); it takes no more parts." },
  "upload-completing": { status: 409, title: "Conflict", summary: "Another request is completing this session; retry to get its job." },
  "upload-stalled": { status: 408, title: "Request Timeout", summary: "The body sent nothing for UPLOAD_IDLE_TIMEOUT_MS; nothing was kept. Counted as the client's fault." },
  "length-required": { status: 411, title: "Length Required", summary: "A part must be sent with its Content-Length." },
  "summary-not-ready": { status: 409, title: "Summary Not Ready", summary: "The job has not succeeded (yet); `jobStatus` says where it is." },
  "payload-too-large": { status: 413, title: "Payload Too Large", summary: "The model is larger than MAX_UPLOAD_BYTES." },
  "not-ifc": { status: 415, title: "Unsupported Media Type", summary: "The body does not start like an IFC (STEP) file." },
  "unsupported-content-type": { status: 415, title: "Unsupported Media Type", summary: "A multipart type other than multipart/form-data." },
  "unsupported-schema": { status: 422, title: "Unprocessable Content", summary: "The STEP header names a schema other than IFC2X3, IFC4 or IFC4X3." },
  "invalid-step-header": { status: 422, title: "Unprocessable Content", summary: "The STEP header is malformed." },
  "idempotency-key-mismatch": {
    status: 422,
    title: "Idempotency Key Reused",
    summary: "The Idempotency-Key was used for another request (another file name or body, another session); nothing was stored or changed.",
  },
  "webhook-url-rejected": { status: 422, title: "Unprocessable Content", summary: "The webhook URL is not allowed (scheme, credentials, private or reserved address)." },
  internal: { status: 500, title: "Internal Server Error", summary: "An unexpected error; quote the requestId." },
  misconfigured: { status: 500, title: "Service Misconfigured", summary: "The service's configuration is invalid." },
  "not-implemented": { status: 501, title: "Not Implemented", summary: "This storage driver has no upload sessions." },
  "storage-unavailable": { status: 503, title: "Service Unavailable", summary: "Object storage failed; retry after Retry-After." },
  "upload-capacity": { status: 503, title: "Service Unavailable", summary: "This instance is at its upload memory budget; retry after Retry-After." },
  "job-unavailable": { status: 503, title: "Service Unavailable", summary: "The model was stored but its job could not be recorded; it was removed again, so retrying is safe." },
  "circuit-open": { status: 503, title: "Dependency Unavailable", summary: "A dependency's circuit breaker is open; nothing was processed. Retry after Retry-After." },
  "dependency-timeout": { status: 503, title: "Dependency Timeout", summary: "A dependency did not answer in time." },
  "webhook-url-unverifiable": { status: 503, title: "Service Unavailable", summary: "The webhook URL's host could not be resolved right now." },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string; summary: string }>;

export type ProblemSlug = keyof typeof PROBLEM_TYPES;

export const ProblemSchema = z
  .looseObject({
    type: z.url().openapi({ description: `${PROBLEM_BASE}{slug}; the slugs are listed per response.` }),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().openapi({ description: "The request path." }),
    requestId: z.string().openapi({ description: "Also in the X-Request-Id header; quote it when reporting a problem." }),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().openapi({ description: "validation-failed only." }),
  })
  .openapi("Problem", { description: "RFC 9457 problem details; problem types may add fields (e.g. `jobStatus`, `dependency`, `retryAfterSeconds`)." });

function example(slug: ProblemSlug): Record<string, unknown> {
  const problem = PROBLEM_TYPES[slug];
  const value: Record<string, unknown> = {
    type: PROBLEM_BASE + slug,
    title: problem.title,
    status: problem.status,
    detail: problem.summary,
    instance: "/v1/...",
    requestId: "0b9d7f0e-3c1a-4c52-9a59-0f5a8f0c2d11",
  };
  if (slug === "validation-failed") value.errors = [{ field: "projectId", message: "must match [A-Za-z0-9_-]{1,64}" }];
  return value;
}

/** Problems every authenticated route may answer with. */
export const COMMON_PROBLEMS = ["validation-failed", "unauthorized", "internal", "misconfigured"] as const satisfies ProblemSlug[];

type ProblemResponse = {
  description: string;
  content: { "application/problem+json": { schema: typeof ProblemSchema; examples: Record<string, { summary: string; value: unknown }> } };
};

/** OpenAPI responses for the given problem types, grouped by status, one example per type. */
export function problemResponses(...slugs: ProblemSlug[]): Record<number, ProblemResponse> {
  const responses: Record<number, ProblemResponse> = {};
  for (const slug of [...new Set(slugs)]) {
    const { status, summary } = PROBLEM_TYPES[slug];
    const entry = (responses[status] ??= {
      description: "",
      content: { "application/problem+json": { schema: ProblemSchema, examples: {} } },
    });
    entry.description += `${entry.description ? "\n" : ""}- \`${slug}\`: ${summary}`;
    entry.content["application/problem+json"].examples[slug] = { summary, value: example(slug) };
  }
  return responses;
}
