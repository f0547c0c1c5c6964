import { createRoute } from "@hono/zod-openapi";
import { JobParams } from "../api/common";
import { JobSchema } from "../api/jobs";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { ModelSummarySchema } from "../api/summary";
import type { Caller } from "../http/context";
import { mayAccessProject } from "../http/context";
import { BEARER, openApiRouter } from "../http/openapi-app";
import { notFound, ProblemError } from "../lib/problem";
import type { JobDirectory } from "../jobs/client";
import { type JobRecord, jobView } from "../jobs/record";

async function visibleJob(jobs: JobDirectory, caller: Caller, jobId: string): Promise<JobRecord> {
  const record = await jobs.get(jobId);
  // Another project's job answers exactly like a missing one, so ids cannot be probed.
  if (!record || !mayAccessProject(caller, record.projectId)) throw notFound(`No job ${jobId}.`);
  return record;
}

const getJob = createRoute({
  method: "get",
  path: "/{jobId}",
  tags: ["Jobs"],
  summary: "Read a job",
  description: "The job's status, file, attempts, notifications, and its summary once it has succeeded. Another project's job answers 404.",
  security: BEARER,
  request: { params: JobParams },
  responses: {
    200: { description: "The job.", content: { "application/json": { schema: JobSchema } } },
    ...problemResponses(...COMMON_PROBLEMS, "not-found"),
  },
});

const getSummary = createRoute({
  method: "get",
  path: "/{jobId}/summary",
  tags: ["Jobs"],
  summary: "Read a job's model summary",
  description: "The summary of a succeeded job (also stored as summary.json beside the model); 409 while the job is queued or processing, or when it failed.",
  security: BEARER,
  request: { params: JobParams },
  responses: {
    200: { description: "The model summary.", content: { "application/json": { schema: ModelSummarySchema } } },
    ...problemResponses(...COMMON_PROBLEMS, "not-found", "summary-not-ready"),
  },
});

export const jobs = openApiRouter()
  .openapi(getJob, async (c) => {
    const { jobId } = c.req.valid("param");
    return c.json(jobView(await visibleJob(c.var.jobs, c.var.caller, jobId)), 200);
  })
  .openapi(getSummary, async (c) => {
    const { jobId } = c.req.valid("param");
    const record = await visibleJob(c.var.jobs, c.var.caller, jobId);
    if (record.status === "succeeded" && record.summary) return c.json(record.summary, 200);
    const failed = record.status === "failed";
    throw new ProblemError({
      status: 409,
      slug: "summary-not-ready",
      title: "Summary Not Ready",
      detail: failed
        ? `Job ${jobId} failed (${record.error?.code ?? "internal"}), so it has no summary: ${record.error?.message ?? "see the job record"}`
        : `Job ${jobId} is ${record.status}; the summary is available once it has succeeded. Poll ${`/v1/jobs/${jobId}`}.`,
      headers: failed ? {} : { "Retry-After": "2" },
      extensions: { jobStatus: record.status },
    });
  });
