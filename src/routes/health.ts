import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { requireCaller } from "../http/auth";
import type { CircuitSnapshot } from "../resilience/circuit-state";

export const liveness = new Hono<AppEnv>().get("/healthz", (c) => c.json({ status: "ok" }));

interface Degraded {
  key: string;
  state: CircuitSnapshot["state"];
  retryAfterMs: number;
}

export const readiness = new Hono<AppEnv>().get("/readyz", requireCaller, async (c) => {
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
      ? { status: "unknown" }
      : operator
        ? { degraded }
        : {
            open: degraded.filter((circuit) => circuit.state === "open").length,
            halfOpen: degraded.filter((circuit) => circuit.state === "half-open").length,
          };
  if (degraded !== "unknown" && degraded.some((circuit) => circuit.key === "storage" && circuit.state === "open")) {
    // Uploads are being turned away: no point probing storage, and no point routing uploads here.
    return c.json({ status: "unavailable", config: "ok", storage: { driver, status: "circuit-open" }, circuits }, 503);
  }
  try {
    await c.var.storage.ping();
  } catch (error) {
    c.var.log.warn({ msg: "readiness: storage unreachable", component: "storage", error: String(error) });
    return c.json({ status: "unavailable", config: "ok", storage: { driver, status: "unreachable" }, circuits }, 503);
  }
  return c.json({
    status: degraded !== "unknown" && degraded.length > 0 ? "degraded" : "ok",
    environment: c.var.config.environment,
    config: "ok",
    storage: { driver, status: "ok", latencyMs: Date.now() - started },
    circuits,
  });
});
