import { createRoute } from "@hono/zod-openapi";
import { JobParams } from "../api/common";
import { JobSchema } from "../api/jobs";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { ModelSummarySchema } from "../api/summary";
import type { ModelSummary } from "../processing/summary";
import type { Caller } from "../http/context";
import { mayAccessProject } from "../http/context";
import { BEARER, openApiRouter } from "../http/openapi-app";
import { notFound, ProblemError } from "../lib/problem";
import type { JobDirectory } from "../jobs/client";
import { type JobRecord, jobView, summaryObjectKey } from "../jobs/record";
import { durableProjectJobIndex } from "../projects/client";
import { CircuitOpenError, DependencyTimeoutError } from "../resilience/errors";

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

const deleteJob = createRoute({
  method: "delete",
  path: "/{jobId}",
  tags: ["Jobs"],
  summary: "Delete a job",
  description: "Removes the stored model, its summary.json and the job's record; the job leaves its project's listing. Another project's job answers 404.",
  security: BEARER,
  request: { params: JobParams },
  responses: {
    204: { description: "Deleted; the job now answers 404." },
    ...problemResponses(...COMMON_PROBLEMS, "not-found", "storage-unavailable", "circuit-open", "dependency-timeout"),
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
    if (record.status === "succeeded" && record.summary) {
      // The record keeps a cut copy of a large summary; the whole one is beside the model.
      const stored = record.summary.truncated ? await c.var.storage.get(summaryObjectKey(record.objectKey)) : null;
      if (stored) return c.json((await new Response(stored.body).json()) as ModelSummary, 200);
      return c.json(record.summary, 200);
    }
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
  })
  .openapi(deleteJob, async (c) => {
    const { jobId } = c.req.valid("param");
    const record = await visibleJob(c.var.jobs, c.var.caller, jobId);
    // The stored bytes go first: should storage fail, the job is still there to delete again.
    for (const key of [record.objectKey, summaryObjectKey(record.objectKey)]) {
      try {
        await c.var.circuits.guard("storage", () => c.var.storage.delete(key), { timeoutMs: c.var.config.resilience.storageTimeoutMs });
      } catch (error) {
        if (error instanceof CircuitOpenError || error instanceof DependencyTimeoutError) throw error;
        throw new ProblemError({ status: 503, slug: "storage-unavailable", title: "Storage Unavailable", detail: "The stored model or summary could not be removed; the job is kept, so delete it again later.", headers: { "Retry-After": "5" } });
      }
    }
    await c.var.jobs.forget(jobId);
    await durableProjectJobIndex(c.env.PROJECTS).forgetJob(record.projectId, jobId);
    return c.body(null, 204);
  });
