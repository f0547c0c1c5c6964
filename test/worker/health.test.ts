import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { scopedApp } from "../support/scoped-app";
import { expectProblem } from "../support/problem";
import { api, call, getApi, token } from "../support/worker";

describe("health routes", () => {
  it("answers liveness without a token", async () => {
    const response = await call(new Request(api("/healthz")));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/.+/);
  });

  it("reports readiness with config and storage state", async () => {
    const response = await getApi("/readyz");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", environment: "test", storage: { driver: "memory", status: "ok" } });
  });

  it("demands a token for readiness", async () => {
    await expectProblem(await call(new Request(api("/readyz"))), 401, "unauthorized");
  });

  it("reports 503 when storage is unreachable", async () => {
    const broken = { list: () => Promise.reject(new Error("connection refused")) } as unknown as R2Bucket;
    const response = await getApi("/readyz", ["*"], {
      STORAGE_DRIVER: "r2",
      MODELS: broken,
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "unavailable", storage: { driver: "r2", status: "unreachable" } });
  });

  it("stays live when misconfigured, while readiness names the missing R2 binding", async () => {
    const broken = { STORAGE_DRIVER: "r2", MODELS: undefined };
    expect((await call(new Request(api("/healthz")), broken)).status).toBe(200);
    const response = await getApi("/readyz", ["*"], broken);
    expect((await expectProblem(response, 500, "misconfigured")).detail).toContain("MODELS");
  });
});

describe("readiness and tenants", () => {
  const policy = { breaker: { failureThreshold: 5, resetMs: 60_000 }, budget: { maxTokens: 500, retryCost: 5, timeoutCost: 10, successRefund: 1 } };

  it("shows project tokens only totals, and receiver hosts only to operators", async () => {
    const app = scopedApp();
    const key = "webhook:tenant-a:hooks.secret-tenant.example";
    const stub = app.circuit(key);
    for (let i = 0; i < 5; i++) await stub.report({ key, policy }, { outcome: "failure", latencyMs: 1, probe: false }, Date.now());
    await env.CIRCUITS.get(env.CIRCUITS.idFromName(`${app.scope}@registry`)).register(key, Date.now());

    const read = async (projects: string[]) =>
      app.fetch(new Request(api("/readyz"), { headers: { authorization: `Bearer ${await token(projects)}` } }));
    const tenant = await read(["tenant-b"]);
    expect(tenant.status).toBe(200);
    const tenantText = await tenant.text();
    expect(tenantText).not.toContain("secret-tenant");
    expect(tenantText).not.toContain("tenant-a");
    expect(JSON.parse(tenantText)).toMatchObject({ status: "degraded", circuits: { open: 1, halfOpen: 0 } });

    const operator = await read(["*"]);
    expect(await operator.json()).toMatchObject({ circuits: { degraded: [{ key, state: "open" }] } });
  });
});
