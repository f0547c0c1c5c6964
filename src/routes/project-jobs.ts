import { createRoute } from "@hono/zod-openapi";
import { ProjectParams } from "../api/common";
import { JobListQuery, JobListSchema } from "../api/jobs";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { mayAccessProject } from "../http/context";
import { BEARER, openApiRouter } from "../http/openapi-app";
import { ProblemError } from "../lib/problem";
import { durableProjectDirectory } from "../projects/client";
import { decodeCursor } from "../projects/job-cursor";

const listJobs = createRoute({
  method: "get",
  path: "/{projectId}/jobs",
  tags: ["Jobs"],
  summary: "List a project's jobs",
  description: "Newest first, optionally one status, `limit` (1-100, default 20) per page; follow `nextCursor` for the next page. Items are jobs without their summary.",
  security: BEARER,
  request: { params: ProjectParams, query: JobListQuery },
  responses: {
    200: { description: "One page of jobs.", content: { "application/json": { schema: JobListSchema } } },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden"),
  },
});

export const projectJobs = openApiRouter().openapi(listJobs, async (c) => {
  const { projectId } = c.req.valid("param");
  const { status, limit, cursor } = c.req.valid("query");
  if (!mayAccessProject(c.var.caller, projectId)) {
    throw new ProblemError({ status: 403, slug: "forbidden", title: "Forbidden", detail: `The token does not grant access to project ${projectId}.` });
  }
  const position = cursor === undefined ? undefined : decodeCursor(cursor);
  if (position === null) {
    throw new ProblemError({
      status: 400,
      slug: "validation-failed",
      title: "Bad Request",
      detail: "cursor: must be a nextCursor from an earlier page",
      extensions: { errors: [{ field: "cursor", message: "must be a nextCursor from an earlier page" }] },
    });
  }
  const page = await durableProjectDirectory(c.env.PROJECTS).listJobs(projectId, { status, limit, cursor: position });
  return c.json(page, 200);
});
