import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Caller } from "../http/context";
import { mayAccessProject } from "../http/context";
import { ProblemError, notFound } from "../lib/problem";
import { validate } from "../http/validation";
import { PROJECT_ID_PATTERN } from "../ingest/sanitize-filename";
import { EVENT_TYPES } from "../notify/events";
import { webhookGuard } from "../notify/select-notifiers";
import { checkWebhookUrl } from "../notify/ssrf-guard";
import { durableProjectDirectory } from "../projects/client";

const params = z.object({
  projectId: z.string().regex(PROJECT_ID_PATTERN, "must match [A-Za-z0-9_-]{1,64}"),
});

const subscription = z.object({
  url: z.string().min(1).max(2048),
  events: z
    .array(z.enum(EVENT_TYPES))
    .min(1)
    .refine((events) => new Set(events).size === events.length, "must not repeat an event type")
    .default([...EVENT_TYPES]),
});

function authorize(caller: Caller, projectId: string): string {
  if (mayAccessProject(caller, projectId)) return projectId;
  throw new ProblemError({ status: 403, slug: "forbidden", title: "Forbidden", detail: `The token does not grant access to project ${projectId}.` });
}

/** PUT/GET/DELETE /v1/projects/{projectId}/webhook: one subscription per project. */
export const webhooks = new Hono<AppEnv>()
  .put("/:projectId/webhook", validate("param", params), validate("json", subscription), async (c) => {
    const projectId = authorize(c.var.caller, c.req.valid("param").projectId);
    const { url, events } = c.req.valid("json");
    const verdict = await checkWebhookUrl(url, webhookGuard(c.var.config.notify));
    if (!verdict.ok && verdict.transient) {
      throw new ProblemError({
        status: 503,
        slug: "webhook-url-unverifiable",
        title: "Service Unavailable",
        detail: `The webhook URL could not be checked right now: ${verdict.reason}.`,
        headers: { "Retry-After": "5" },
        extensions: { reason: verdict.reason },
      });
    }
    if (!verdict.ok) {
      throw new ProblemError({
        status: 422,
        slug: "webhook-url-rejected",
        title: "Unprocessable Content",
        detail: `The webhook URL was rejected: ${verdict.reason}.`,
        extensions: { reason: verdict.reason },
      });
    }
    const created = await durableProjectDirectory(c.env.PROJECTS).putWebhook(projectId, verdict.url.toString(), events);
    c.header("Cache-Control", "no-store");
    return c.json(created, 200);
  })
  .get("/:projectId/webhook", validate("param", params), async (c) => {
    const projectId = authorize(c.var.caller, c.req.valid("param").projectId);
    const found = await durableProjectDirectory(c.env.PROJECTS).getWebhook(projectId);
    if (!found) throw notFound(`Project ${projectId} has no webhook subscription.`);
    return c.json(found);
  })
  .delete("/:projectId/webhook", validate("param", params), async (c) => {
    const projectId = authorize(c.var.caller, c.req.valid("param").projectId);
    const existed = await durableProjectDirectory(c.env.PROJECTS).deleteWebhook(projectId);
    if (!existed) throw notFound(`Project ${projectId} has no webhook subscription.`);
    return c.body(null, 204);
  });
