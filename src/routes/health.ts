import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { requireCaller } from "../http/auth";

export const liveness = new Hono<AppEnv>().get("/healthz", (c) => c.json({ status: "ok" }));

export const readiness = new Hono<AppEnv>().get("/readyz", requireCaller, async (c) => {
  const started = Date.now();
  try {
    await c.var.storage.ping();
  } catch (error) {
    c.var.log.warn({ msg: "readiness: storage unreachable", component: "storage", error: String(error) });
    return c.json(
      { status: "unavailable", config: "ok", storage: { driver: c.var.storage.driver, status: "unreachable" } },
      503,
    );
  }
  return c.json({
    status: "ok",
    environment: c.var.config.environment,
    config: "ok",
    storage: { driver: c.var.storage.driver, status: "ok", latencyMs: Date.now() - started },
  });
});
