import { describe, expect, it } from "vitest";
import type { CircuitSnapshot } from "../../src/resilience/circuit-state";
import { DEFAULT_POLICY, policyWith } from "../support/policy";
import { expectProblem } from "../support/problem";
import { scopedApp, type ScopedApp } from "../support/scoped-app";
import { watchedBody } from "../support/streams";
import { api, bearer, fixture, token } from "../support/worker";

/** The test environment's settings (wrangler.toml [env.test] leaves the defaults). */
const policy = DEFAULT_POLICY;

async function openBreaker(app: ScopedApp, key: string, policyOverride = policy): Promise<void> {
  const stub = app.circuit(key);
  for (let i = 0; i < 5; i++) {
    await stub.report({ key, policy: policyOverride }, { outcome: "failure", latencyMs: 12, probe: false }, Date.now());
  }
}

const auth = bearer;

describe("what clients see of the storage breaker", () => {
  it("answers 503 circuit-open with Retry-After before reading the upload body", async () => {
    const app = scopedApp();
    await openBreaker(app, "storage");
    const watched = watchedBody(await fixture("test.ifc"));
    const response = await app.fetch(
      new Request(api("/v1/projects/demo/models?filename=a.ifc"), {
        method: "POST",
        body: watched.body,
        headers: await auth(["demo"]),
        duplex: "half",
      } as RequestInit),
    );
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await expectProblem(response, 503, "circuit-open")).toMatchObject({ dependency: "storage", circuit: "open" });
    // Refused before the body was touched: the fast path is this, its speed is for benchmarks.
    expect(watched.pulls()).toBe(0);
  });

  it("lets a client retry with the same Idempotency-Key once the breaker closes", async () => {
    const app = scopedApp();
    await openBreaker(app, "storage");
    const headers = { ...(await auth(["demo"])), "idempotency-key": `k-${crypto.randomUUID()}` };
    const bytes = await fixture("test.ifc");
    const refused = await app.fetch(new Request(api("/v1/projects/demo/models"), { method: "POST", body: bytes, headers }));
    await expectProblem(refused, 503, "circuit-open");
    const other = scopedApp();
    const accepted = await other.fetch(new Request(api("/v1/projects/demo/models"), { method: "POST", body: bytes, headers }));
    expect(accepted.status).toBe(202);
  });

  it("does not count rejected uploads (415, 413) as storage failures", async () => {
    const app = scopedApp();
    for (let i = 0; i < 6; i++) {
      const response = await app.fetch(
        new Request(api("/v1/projects/demo/models"), { method: "POST", body: "not an ifc file at all", headers: await auth(["demo"]) }),
      );
      await expectProblem(response, 415, "not-ifc");
    }
    const big = await app.fetch(
      new Request(api("/v1/projects/demo/models"), { method: "POST", body: await fixture("test.ifc"), headers: await auth(["demo"]) }),
      { MAX_UPLOAD_BYTES: "1000" },
    );
    await expectProblem(big, 413, "payload-too-large");
    await app.settled();
    const snapshot = await app.circuit("storage").snapshot({ key: "storage", policy }, Date.now());
    expect(snapshot).toMatchObject({ state: "closed", consecutiveFailures: 0, counters: { failures: 0, timeouts: 0 } });
    // Every upload that reached storage was reported, as the client's fault.
    expect(snapshot.counters.clientErrors).toBe(snapshot.counters.calls);
    expect(snapshot.counters.calls).toBeGreaterThanOrEqual(6);
  });

  it("frees the half-open probe when the probing upload is refused before storage is touched", async () => {
    const app = scopedApp();
    const fast = policyWith({ breaker: { resetMs: 1 } });
    await openBreaker(app, "storage", fast);
    await new Promise((done) => setTimeout(done, 5));
    const headers = { ...(await auth(["demo"])), "content-type": "multipart/form-data; boundary=xyz" };
    const broken = await app.fetch(new Request(api("/v1/projects/demo/models"), { method: "POST", body: "garbage", headers }), {
      BREAKER_RESET_MS: "1",
    });
    await expectProblem(broken, 400, "invalid-multipart");
    await app.settled();
    const admission = await app.circuit("storage").admit({ key: "storage", policy: fast }, Date.now());
    expect(admission).toMatchObject({ allowed: true, probe: true });
  });
});

describe("GET /readyz with breakers", () => {
  it("reports ok with no degraded dependency", async () => {
    const response = await scopedApp().fetch(new Request(api("/readyz"), { headers: await auth(["*"]) }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", circuits: { degraded: [] } });
  });

  it("stays ready but degraded while another dependency's breaker is open", async () => {
    const app = scopedApp();
    await openBreaker(app, "sqs");
    const response = await app.fetch(new Request(api("/readyz"), { headers: await auth(["*"]) }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "degraded",
      storage: { status: "ok" },
      circuits: { degraded: [{ key: "sqs", state: "open" }] },
    });
  });

  it("is not ready while the storage breaker is open", async () => {
    const app = scopedApp();
    await openBreaker(app, "storage");
    const response = await app.fetch(new Request(api("/readyz"), { headers: await auth(["*"]) }));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: "unavailable",
      storage: { status: "circuit-open" },
      circuits: { degraded: [{ key: "storage", state: "open" }] },
    });
  });
});

describe("GET /v1/ops/circuits", () => {
  it("shows every breaker's state, counters and remaining budget to an operator", async () => {
    const app = scopedApp();
    await openBreaker(app, "storage");
    const response = await app.fetch(new Request(api("/v1/ops/circuits"), { headers: await auth(["*"]) }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { settings: unknown; circuits: CircuitSnapshot[] };
    expect(body.settings).toEqual({ failureThreshold: 5, resetMs: 60_000, retryBudgetTokens: 500, storageTimeoutMs: 600_000 });
    expect(body.circuits.map((c) => c.key)).toEqual(["storage", "sqs", "processor"]);
    expect(body.circuits[0]).toMatchObject({
      key: "storage",
      state: "open",
      counters: { calls: 5, failures: 5, opened: 1 },
      latencyMs: { p50: 12, p95: 12, p99: 12 },
      retryBudget: { tokens: 500, maxTokens: 500 },
    });
  });

  it("is forbidden to a token limited to some projects", async () => {
    const response = await scopedApp().fetch(new Request(api("/v1/ops/circuits"), { headers: await auth(["demo"]) }));
    await expectProblem(response, 403, "forbidden");
  });

  it("demands a token", async () => {
    const response = await scopedApp().fetch(new Request(api("/v1/ops/circuits")));
    await expectProblem(response, 401, "unauthorized");
  });
});
