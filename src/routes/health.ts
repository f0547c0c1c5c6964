import { createRoute } from "@hono/zod-openapi";
import { LivenessSchema, ReadinessSchema } from "../api/health";
import { COMMON_PROBLEMS, problemResponses } from "../api/problems";
import { requireCaller } from "../http/auth";
import { BEARER, openApiRouter } from "../http/openapi-app";
import type { CircuitSnapshot } from "../resilience/circuit-state";

const liveRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Health"],
  summary: "Liveness",
  description: "Answers as long as the Worker runs, before configuration is read; no token needed.",
  responses: { 200: { description: "Alive.", content: { "application/json": { schema: LivenessSchema } } } },
});

export const liveness = openApiRouter().openapi(liveRoute, (c) => c.json({ status: "ok" as const }, 200));

interface Degraded {
  key: string;
  state: CircuitSnapshot["state"];
  retryAfterMs: number;
}

const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["Health"],
  summary: "Readiness",
  description:
    "Configuration, storage reachability and the breakers that are not closed: which ones for operators (projects: [\"*\"]), how many for project tokens.",
  security: BEARER,
  middleware: [requireCaller] as const,
  responses: {
    200: { description: "Ready (`degraded` while a breaker is not closed).", content: { "application/json": { schema: ReadinessSchema } } },
    503: { description: "Storage unreachable or its breaker open: route uploads elsewhere.", content: { "application/json": { schema: ReadinessSchema } } },
    ...problemResponses("unauthorized", "misconfigured", "internal"),
  },
});

export const readiness = openApiRouter().openapi(readyRoute, async (c) => {
  const started = Date.now();
  const driver = c.var.storage.driver;
  let degraded: Degraded[] | "unknown";
  try {
    degraded = (await c.var.circuits.snapshots())
      .filter((circuit) => circuit.state !== "closed")
      .map(({ key, state, retryAfterMs }) => ({ key, state, retryAfterMs }));
  } catch (error) {
    // Breaker state unknown is not a reason to take the service out of rotation.
    c.var.log.warn({ msg: "readiness: circuit states unavailable", component: "circuit", error: String(error) });
    degraded = "unknown";
  }
  // Breaker keys name tenants' receiver hosts: operators see them, project tokens the totals only.
  const operator = c.var.caller.projects.includes("*");
  const circuits =
    degraded === "unknown"
      ? { status: "unknown" as const }
      : operator
        ? { degraded }
        : {
            open: degraded.filter((circuit) => circuit.state === "open").length,
            halfOpen: degraded.filter((circuit) => circuit.state === "half-open").length,
          };
  if (degraded !== "unknown" && degraded.some((circuit) => circuit.key === "storage" && circuit.state === "open")) {
    // Uploads are being turned away: no point probing storage, and no point routing uploads here.
    return c.json({ status: "unavailable" as const, config: "ok" as const, storage: { driver, status: "circuit-open" as const }, circuits }, 503);
  }
  try {
    await c.var.storage.ping();
  } catch (error) {
    c.var.log.warn({ msg: "readiness: storage unreachable", component: "storage", error: String(error) });
    return c.json({ status: "unavailable" as const, config: "ok" as const, storage: { driver, status: "unreachable" as const }, circuits }, 503);
  }
  return c.json(
    {
      status: degraded !== "unknown" && degraded.length > 0 ? ("degraded" as const) : ("ok" as const),
      environment: c.var.config.environment,
      config: "ok" as const,
      storage: { driver, status: "ok" as const, latencyMs: Date.now() - started },
      circuits,
    },
    200,
  );
});
