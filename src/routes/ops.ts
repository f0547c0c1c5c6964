import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { CircuitsReportSchema } from "../api/health";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import type { AppEnv } from "../http/context";
import { BEARER, openApiRouter } from "../http/openapi-app";
import { ProblemError } from "../lib/problem";

/** Operator endpoints: only callers whose token grants every project ("*"). */
const operatorOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.caller.projects.includes("*")) {
    throw new ProblemError({
      status: 403,
      slug: "forbidden",
      title: "Forbidden",
      detail: 'Operations endpoints need a token whose projects include "*".',
    });
  }
  await next();
});

const circuitsRoute = createRoute({
  method: "get",
  path: "/circuits",
  tags: ["Operations"],
  summary: "Circuit breakers and retry budgets",
  description: 'Every dependency\'s breaker state, counters, latency and retry budget. Needs a token whose projects include "*".',
  security: BEARER,
  middleware: [operatorOnly] as const,
  responses: {
    200: { description: "The breakers.", content: { "application/json": { schema: CircuitsReportSchema } } },
    ...problemResponses(...COMMON_PROBLEMS, "forbidden"),
  },
});

export const ops = openApiRouter().openapi(circuitsRoute, async (c) => {
  const circuits = await c.var.circuits.snapshots();
  const { breaker, retryBudget } = c.var.config.resilience;
  return c.json(
    {
      at: new Date().toISOString(),
      settings: {
        failureThreshold: breaker.failureThreshold,
        resetMs: breaker.resetMs,
        retryBudgetTokens: retryBudget.maxTokens,
        storageTimeoutMs: c.var.config.resilience.storageTimeoutMs,
      },
      circuits,
    },
    200,
  );
});
