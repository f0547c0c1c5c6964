import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/context";
import { mayAccessProject } from "../http/context";
import { notFound, ProblemError } from "../lib/problem";
import { validate } from "../http/validation";
import type { JobDirectory } from "../jobs/client";
import { type JobRecord, jobView, summaryObjectKey } from "../jobs/record";
import type { Caller } from "../http/context";

const params = z.object({ jobId: z.guid({ message: "must be a job id (UUID)" }) });

async function visibleJob(jobs: JobDirectory, caller: Caller, jobId: string): Promise<JobRecord> {
  const record = await jobs.get(jobId);
  // Another project's job answers exactly like a missing one, so ids cannot be probed.
  if (!record || !mayAccessProject(caller, record.projectId)) throw notFound(`No job ${jobId}.`);
  return record;
}

export const jobs = new Hono<AppEnv>()
  .get("/:jobId", validate("param", params), async (c) => {
    const { jobId } = c.req.valid("param");
    return c.json(jobView(await visibleJob(c.var.jobs, c.var.caller, jobId)));
  })
  .get("/:jobId/summary", validate("param", params), async (c) => {
    const { jobId } = c.req.valid("param");
    const record = await visibleJob(c.var.jobs, c.var.caller, jobId);
    if (record.status === "succeeded" && record.summary) {
      if (!record.summary.truncated) return c.json(record.summary);
      // The record keeps a cut copy of a large summary; the whole one is beside the model.
      const stored = await c.var.storage.get(summaryObjectKey(record.objectKey));
      if (stored) return new Response(stored.body, { headers: { "content-type": "application/json" } });
      return c.json(record.summary);
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
  });
