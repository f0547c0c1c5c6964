import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { type Config, ConfigError, loadConfig } from "./config";
import { isOperatorRequest, requireCaller } from "./http/auth";
import type { AppEnv } from "./http/context";
import { createLogger } from "./lib/log";
import { ProblemError, problemBody } from "./lib/problem";
import { requestId } from "./http/request-id";
import { validationHook } from "./http/validation";
import { durableJobDirectory } from "./jobs/client";
import { CircuitOpenError, DependencyTimeoutError } from "./resilience/errors";
import { CircuitClient } from "./circuits/client";
import { liveness, readiness } from "./routes/health";
import { jobs } from "./routes/jobs";
import { models } from "./routes/models";
import { uploads } from "./routes/uploads";
import { webhooks } from "./routes/webhooks";
import { loggedStorage } from "./storage/logged-storage";
import { ops } from "./routes/ops";
import { docs } from "./routes/docs";
import { projectJobs } from "./routes/project-jobs";
import type { ObjectStorage } from "./storage/object-storage";
import { selectStorage } from "./storage/select-storage";

export interface AppOptions {
  /** Replaces the configured storage adapter, e.g. with a real HTTP peer in tests. */
  storage?: (config: Config, env: Env) => ObjectStorage;
  /** Prefix for circuit object names, so test suites running side by side keep their own breakers. */
  circuitScope?: string;
}

export function createApp(options: AppOptions = {}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId);
  // Liveness and the API's description answer before configuration is read: a misconfigured
  // Worker is alive, not ready, and its documentation still reads.
  app.route("/", liveness);
  app.route("/", docs(app));
  app.use(async (c, next) => {
    const config = loadConfig(c.env);
    c.set("config", config);
    const log = createLogger(config.logLevel, { requestId: c.var.requestId });
    c.set("log", log);
    const circuits = CircuitClient.fromConfig(config.resilience, c.env.CIRCUITS, {
      waitUntil: backgroundRunner(c),
      log,
      scope: options.circuitScope,
    });
    c.set("circuits", circuits);
    const configured = options.storage
      ? options.storage(config, c.env)
      : selectStorage(config, c.env, { log, waitUntil: backgroundRunner(c), spendRetry: circuits.retryBudget("storage") });
    c.set("storage", loggedStorage(configured, log));
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
  app.route("/v1/projects", uploads);
  app.route("/v1/projects", webhooks);
  app.route("/v1/projects", projectJobs);
  app.route("/v1/jobs", jobs);
  app.route("/v1/ops", ops);

  app.notFound((c) => {
    throw new ProblemError({ status: 404, slug: "not-found", title: "Not Found", detail: `No route for ${c.req.method} ${c.req.path}.` });
  });

  app.onError(async (error, c) => {
    // Which settings are wrong is for operators (and the log, below), not for every tenant.
    const operator = error instanceof ConfigError && (await isOperatorRequest(c.req.header("authorization"), c.env.AUTH_JWT_SECRET));
    const problem = toProblem(error, operator);
    if (error instanceof CircuitOpenError) {
      // Expected while a dependency is down; one line per turned-away request, no stack.
      c.get("log")?.warn({ msg: "circuit open", component: "circuit", key: error.key, retryAfterMs: error.retryAfterMs });
    } else if (problem.status >= 500 && !(error instanceof ProblemError)) {
      // Deliberate problems (storage unavailable, misconfigured) were logged where they arose;
      // only the unexpected ones need their stack.
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

/** ExecutionContext.waitUntil when the runtime gave one (it throws on access otherwise). */
function backgroundRunner(c: { executionCtx: { waitUntil(promise: Promise<unknown>): void } }): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined;
  }
}

function toProblem(error: unknown, operator: boolean): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof CircuitOpenError) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    return new ProblemError({
      status: 503,
      slug: "circuit-open",
      title: "Dependency Unavailable",
      detail: `The ${error.key} dependency is failing, so the request was turned away without being processed. Retry in ${seconds} s.`,
      headers: { "Retry-After": String(seconds) },
      extensions: { dependency: error.key, circuit: error.state, retryAfterSeconds: seconds },
    });
  }
  if (error instanceof DependencyTimeoutError) {
    return new ProblemError({
      status: 503,
      slug: "dependency-timeout",
      title: "Dependency Timeout",
      detail: `The ${error.key} dependency did not answer in time; retry later.`,
      headers: { "Retry-After": "5" },
      extensions: { dependency: error.key },
    });
  }
  if (error instanceof ConfigError) {
    return new ProblemError({
      status: 500,
      slug: "misconfigured",
      title: "Service Misconfigured",
      detail: operator
        ? `The service configuration is invalid: ${error.problems.join("; ")}.`
        : "The service configuration is invalid; the operators have been told. Retry later.",
    });
  }
  if (error instanceof HTTPException && error.status === 415) {
    return new ProblemError({
      status: 415,
      slug: "unsupported-content-type",
      title: "Unsupported Media Type",
      detail: "The request's Content-Type is not one this route takes; see /openapi.json.",
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
