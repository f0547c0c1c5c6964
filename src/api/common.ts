import { z } from "@hono/zod-openapi";
import { PROJECT_ID_PATTERN } from "../ingest/sanitize-filename";

export const ProjectParams = z.object({
  projectId: z
    .string()
    .regex(PROJECT_ID_PATTERN, "must match [A-Za-z0-9_-]{1,64}")
    .openapi({ param: { name: "projectId", in: "path" }, example: "demo" }),
});

export const JobParams = z.object({
  jobId: z
    .guid({ message: "must be a job id (UUID)" })
    .openapi({ param: { name: "jobId", in: "path" }, example: "6f1c2b9e-4d0a-4f7e-9a51-2a8c3e7d9b10" }),
});

export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: "2026-11-30T01:30:00.000Z" });
