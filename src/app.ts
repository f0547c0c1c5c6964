import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError, loadConfig } from "./config";
import { requireCaller } from "./http/auth";
import type { AppEnv } from "./http/context";
import { createLogger } from "./http/log";
import { ProblemError, problemBody } from "./http/problem";
import { requestId } from "./http/request-id";
import { durableJobDirectory } from "./objects/job-directory";
import { liveness, readiness } from "./routes/health";
import { jobs } from "./routes/jobs";
import { models } from "./routes/models";
import { webhooks } from "./routes/webhooks";
import { loggedStorage } from "./storage/logged-storage";
import { selectStorage } from "./storage/select-storage";

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(requestId);
  // Liveness answers before configuration is read: a misconfigured Worker is alive, not ready.
  app.route("/", liveness);
  app.use(async (c, next) => {
    const config = loadConfig(c.env);
    c.set("config", config);
    const log = createLogger(config.logLevel, { requestId: c.var.requestId });
    c.set("log", log);
    c.set(
      "storage",
      loggedStorage(
        selectStorage(config, c.env, {
          log,
          waitUntil: (promise) => {
            try {
              c.executionCtx.waitUntil(promise);
            } catch {
              // No execution context (the app called directly): the promise still runs, untracked.
            }
          },
        }),
        log,
      ),
    );
    c.set("jobs", durableJobDirectory(c.env.JOBS));
    const started = Date.now();
    await next();
    const status = c.res.status;
    c.var.log.info({
      msg: "request",
      component: "http",
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Date.now() - started,
      outcome: status >= 500 ? "error" : status >= 400 ? "rejected" : "ok",
      projectId: c.req.param("projectId"),
    });
  });

  app.route("/", readiness);
  app.use("/v1/*", requireCaller);
  app.route("/v1/projects", models);
  app.route("/v1/projects", webhooks);
  app.route("/v1/jobs", jobs);

  app.notFound((c) => {
    throw new ProblemError({ status: 404, slug: "not-found", title: "Not Found", detail: `No route for ${c.req.method} ${c.req.path}.` });
  });

  app.onError((error, c) => {
    const problem = toProblem(error);
    if (problem.status >= 500) {
      const log = c.get("log") ?? createLogger("info", { requestId: c.var.requestId });
      log.error({
        msg: "request failed",
        component: "http",
        status: problem.status,
        error: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
    }
    const body = problemBody(problem, new URL(c.req.url).pathname, c.var.requestId);
    return new Response(JSON.stringify(body), {
      status: problem.status,
      headers: {
        ...problem.headers,
        "content-type": "application/problem+json",
        "x-request-id": c.var.requestId,
      },
    });
  });

  return app;
}

function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof ConfigError) {
    return new ProblemError({
      status: 500,
      slug: "misconfigured",
      title: "Service Misconfigured",
      detail: `The service configuration is invalid: ${error.problems.join("; ")}.`,
    });
  }
  if (error instanceof HTTPException && error.status < 500) {
    return new ProblemError({ status: error.status, slug: "http-error", title: "Request Error", detail: error.message || "The request was rejected." });
  }
  return new ProblemError({
    status: 500,
    slug: "internal",
    title: "Internal Server Error",
    detail: "Something went wrong on our side; quote the requestId when reporting it.",
  });
}
