import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/context";
import { mayAccessProject } from "../http/context";
import { notFound } from "../http/problem";
import { validate } from "../http/validation";
import { jobView } from "../objects/job-record";

const params = z.object({ jobId: z.guid({ message: "must be a job id (UUID)" }) });

export const jobs = new Hono<AppEnv>().get("/:jobId", validate("param", params), async (c) => {
  const { jobId } = c.req.valid("param");
  const record = await c.var.jobs.get(jobId);
  // Another project's job answers exactly like a missing one, so ids cannot be probed.
  if (!record || !mayAccessProject(c.var.caller, record.projectId)) throw notFound(`No job ${jobId}.`);
  return c.json(jobView(record));
});
