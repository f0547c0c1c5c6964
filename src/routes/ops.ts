import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { ProblemError } from "../lib/problem";

/** Operator endpoints: only callers whose token grants every project ("*"). */
export const ops = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (!c.var.caller.projects.includes("*")) {
      throw new ProblemError({
        status: 403,
        slug: "forbidden",
        title: "Forbidden",
        detail: 'Operations endpoints need a token whose projects include "*".',
      });
    }
    await next();
  })
  .get("/circuits", async (c) => {
    const circuits = await c.var.circuits.snapshots();
    const { breaker, retryBudget } = c.var.config.resilience;
    return c.json({
      at: new Date().toISOString(),
      settings: {
        failureThreshold: breaker.failureThreshold,
        resetMs: breaker.resetMs,
        retryBudgetTokens: retryBudget.maxTokens,
        storageTimeoutMs: c.var.config.resilience.storageTimeoutMs,
      },
      circuits,
    });
  });
