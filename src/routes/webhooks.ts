import { createRoute } from "@hono/zod-openapi";
import { ProjectParams } from "../api/common";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { CreatedWebhookSubscriptionSchema, WebhookSubscriptionRequest, WebhookSubscriptionSchema } from "../api/webhooks";
import type { Caller } from "../http/context";
import { mayAccessProject } from "../http/context";
import { BEARER, openApiRouter } from "../http/openapi-app";
import { ProblemError, notFound } from "../lib/problem";
import { webhookGuard } from "../notify/select-notifiers";
import { checkWebhookUrl } from "../notify/ssrf-guard";
import { durableProjectDirectory } from "../projects/client";

const common = { tags: ["Webhooks"], security: BEARER, request: { params: ProjectParams } };

const putWebhook = createRoute({
  ...common,
  method: "put",
  path: "/{projectId}/webhook",
  summary: "Subscribe a webhook",
  description: "Creates or replaces the project's one subscription with a fresh signing secret (Standard Webhooks). The URL must be https and must not resolve to a private, loopback or reserved address.",
  request: {
    params: ProjectParams,
    body: { required: true, content: { "application/json": { schema: WebhookSubscriptionRequest } } },
  },
  responses: {
    200: { description: "The subscription, with its secret (shown only here).", content: { "application/json": { schema: CreatedWebhookSubscriptionSchema } } },
    ...problemResponses(...COMMON_PROBLEMS, "http-error", "unsupported-content-type", "forbidden", "webhook-url-rejected", "webhook-url-unverifiable"),
  },
});

const getWebhook = createRoute({
  ...common,
  method: "get",
  path: "/{projectId}/webhook",
  summary: "Read the webhook subscription",
  responses: {
    200: { description: "The subscription, without its secret.", content: { "application/json": { schema: WebhookSubscriptionSchema } } },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden", "not-found"),
  },
});

const deleteWebhook = createRoute({
  ...common,
  method: "delete",
  path: "/{projectId}/webhook",
  summary: "Delete the webhook subscription",
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden", "not-found"),
  },
});

function authorize(caller: Caller, projectId: string): string {
  if (mayAccessProject(caller, projectId)) return projectId;
  throw new ProblemError({ status: 403, slug: "forbidden", title: "Forbidden", detail: `The token does not grant access to project ${projectId}.` });
}

/** PUT/GET/DELETE /v1/projects/{projectId}/webhook: one subscription per project. */
export const webhooks = openApiRouter()
  .openapi(putWebhook, async (c) => {
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
  .openapi(getWebhook, async (c) => {
    const projectId = authorize(c.var.caller, c.req.valid("param").projectId);
    const found = await durableProjectDirectory(c.env.PROJECTS).getWebhook(projectId);
    if (!found) throw notFound(`Project ${projectId} has no webhook subscription.`);
    return c.json(found, 200);
  })
  .openapi(deleteWebhook, async (c) => {
    const projectId = authorize(c.var.caller, c.req.valid("param").projectId);
    const existed = await durableProjectDirectory(c.env.PROJECTS).deleteWebhook(projectId);
    if (!existed) throw notFound(`Project ${projectId} has no webhook subscription.`);
    return c.body(null, 204);
  });
