import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CircuitObject, CircuitRef } from "../../src/circuits/object";
import { CIRCUIT_IDLE_TTL_MS, REGISTRY_OBJECT } from "../../src/circuits/object";
import { DEFAULT_POLICY, policyWith } from "../support/policy";

const policy = DEFAULT_POLICY;
const T0 = Date.UTC(2026, 10, 1);

/** A fresh object per test: names are unique, so tests never share a breaker. */
function circuit(key = "storage"): { stub: DurableObjectStub<CircuitObject>; ref: CircuitRef; name: string } {
  const name = `test-${crypto.randomUUID()}/${key}`;
  return { stub: env.CIRCUITS.get(env.CIRCUITS.idFromName(name)), ref: { key, policy }, name };
}

async function failFiveTimes(stub: DurableObjectStub<CircuitObject>, ref: CircuitRef, at = T0): Promise<void> {
  for (let i = 0; i < 5; i++) await stub.report(ref, { outcome: "failure", latencyMs: 40, probe: false }, at);
}

describe("Circuit Durable Object", () => {
  it("applies a batch of reports in order: successes, then failures that open the breaker", async () => {
    const { stub, ref } = circuit();
    const success = { report: { outcome: "success" as const, latencyMs: 5, probe: false }, at: T0 };
    const failure = { report: { outcome: "failure" as const, latencyMs: 40, probe: false }, at: T0 + 1 };
    expect(await stub.reportBatch(ref, [success, success, failure, failure, failure, failure])).toEqual({ state: "closed", retryAfterMs: 0 });
    expect(await stub.reportBatch(ref, [failure])).toEqual({ state: "open", retryAfterMs: 60_000 });
    expect(await stub.snapshot(ref, T0 + 1)).toMatchObject({ counters: { calls: 7, successes: 2, failures: 5, opened: 1 } });
    // A success after the failures in one batch resets their count.
    const other = circuit();
    await other.stub.reportBatch(other.ref, [failure, failure, failure, failure, { ...success, at: T0 + 2 }, failure]);
    expect(await other.stub.snapshot(other.ref, T0 + 2)).toMatchObject({ state: "closed", consecutiveFailures: 1 });
  });

  it("admits while closed and opens after the fifth reported failure", async () => {
    const { stub, ref } = circuit();
    expect(await stub.admit(ref, T0)).toEqual({ allowed: true, state: "closed", retryAfterMs: 0, probe: false });
    for (let i = 0; i < 4; i++) {
      expect(await stub.report(ref, { outcome: "failure", latencyMs: 40, probe: false }, T0)).toEqual({ state: "closed", retryAfterMs: 0 });
    }
    expect(await stub.report(ref, { outcome: "failure", latencyMs: 40, probe: false }, T0)).toEqual({ state: "open", retryAfterMs: 60_000 });
    expect(await stub.admit(ref, T0 + 1)).toEqual({ allowed: false, state: "open", retryAfterMs: 59_999, probe: false });
  });

  it("keeps breaker, budget and counters in SQLite across eviction", async () => {
    const { stub, ref, name } = circuit();
    await stub.admit(ref, T0);
    await failFiveTimes(stub, ref);
    expect(await stub.spendRetry(ref, "timeout")).toBe(true);
    await runInDurableObject(stub, (_instance: CircuitObject, state) => {
      const rows = state.storage.sql.exec<{ state: string }>("SELECT state FROM circuit").toArray();
      expect(rows).toHaveLength(1);
      expect(JSON.parse(rows[0]?.state ?? "{}")).toMatchObject({ key: "storage", breaker: { status: "open" }, budget: { tokens: 490 } });
    });

    await evictDurableObject(stub);
    const again = env.CIRCUITS.get(env.CIRCUITS.idFromName(name));
    const snapshot = await again.snapshot(ref, T0 + 1000);
    expect(snapshot).toMatchObject({
      key: "storage",
      state: "open",
      retryAfterMs: 59_000,
      consecutiveFailures: 5,
      counters: { calls: 5, failures: 5, rejections: 0, opened: 1, retriesAllowed: 1 },
      latencyMs: { samples: 5, p50: 40, p95: 40, p99: 40 },
      retryBudget: { tokens: 490, maxTokens: 500 },
    });
  });

  it("half-opens at exactly the reset time and hands out one probe at a time", async () => {
    const { stub, ref } = circuit();
    await failFiveTimes(stub, ref);
    expect((await stub.admit(ref, T0 + 59_999)).allowed).toBe(false);
    const [first, second] = await Promise.all([stub.admit(ref, T0 + 60_000), stub.admit(ref, T0 + 60_000)]);
    expect([first, second].filter((a) => a.allowed)).toEqual([{ allowed: true, state: "half-open", retryAfterMs: 0, probe: true }]);
    expect([first, second].filter((a) => !a.allowed)).toEqual([{ allowed: false, state: "half-open", retryAfterMs: 1000, probe: false }]);
    expect(await stub.report(ref, { outcome: "success", latencyMs: 5, probe: true }, T0 + 60_050)).toEqual({ state: "closed", retryAfterMs: 0 });
    expect((await stub.admit(ref, T0 + 60_051)).allowed).toBe(true);
  });

  it("opens again when the probe fails, and frees the slot of a probe released unused", async () => {
    const { stub, ref } = circuit();
    await failFiveTimes(stub, ref);
    expect((await stub.admit(ref, T0 + 60_000)).probe).toBe(true);
    expect(await stub.releaseProbe(ref, T0 + 60_001)).toEqual({ state: "half-open", retryAfterMs: 0 });
    expect((await stub.admit(ref, T0 + 60_002)).probe).toBe(true);
    expect(await stub.report(ref, { outcome: "timeout", latencyMs: 900, probe: true }, T0 + 61_000)).toEqual({ state: "open", retryAfterMs: 60_000 });
  });

  it("does not count client errors against the dependency", async () => {
    const { stub, ref } = circuit("sqs");
    for (let i = 0; i < 10; i++) await stub.report(ref, { outcome: "client-error", latencyMs: 8, probe: false }, T0);
    const snapshot = await stub.snapshot(ref, T0);
    expect(snapshot).toMatchObject({ state: "closed", consecutiveFailures: 0, counters: { calls: 10, clientErrors: 10, failures: 0 } });
  });

  it("spends the retry budget down to nothing and refunds it with successes", async () => {
    const { stub, ref } = circuit("processor");
    const small = { ...ref, policy: policyWith({ budget: { maxTokens: 10 } }) };
    expect(await stub.spendRetry(small, "retry")).toBe(true);
    expect(await stub.spendRetry(small, "retry")).toBe(true);
    expect(await stub.spendRetry(small, "retry")).toBe(false);
    for (let i = 0; i < 5; i++) await stub.report(small, { outcome: "success", latencyMs: 1, probe: false }, T0);
    expect(await stub.spendRetry(small, "retry")).toBe(true);
    expect((await stub.snapshot(small, T0)).counters).toMatchObject({ retriesAllowed: 3, retriesDenied: 1 });
  });

  it("answers a snapshot of a key never used without storing anything", async () => {
    const { stub, ref } = circuit("webhook:p1:hooks.example.com");
    expect(await stub.snapshot(ref, T0)).toMatchObject({ key: "webhook:p1:hooks.example.com", state: "closed", retryBudget: { tokens: 500 } });
    const rows = await runInDurableObject(stub, (_i: CircuitObject, state) => state.storage.sql.exec("SELECT * FROM circuit").toArray());
    expect(rows).toHaveLength(0);
  });

  it("lists registered keys once each, surviving eviction", async () => {
    const registry = env.CIRCUITS.get(env.CIRCUITS.idFromName(`test-${crypto.randomUUID()}/${REGISTRY_OBJECT}`));
    await registry.register("webhook:p1:b.example", T0 + 2);
    await registry.register("webhook:p1:a.example", T0 + 1);
    await registry.register("webhook:p1:b.example", T0 + 3);
    await evictDurableObject(registry);
    expect(await registry.keys(T0 + 10)).toEqual(["webhook:p1:a.example", "webhook:p1:b.example"]);
  });

  it("forgets registered keys unused for the idle TTL, keeping those used since", async () => {
    const registry = env.CIRCUITS.get(env.CIRCUITS.idFromName(`test-${crypto.randomUUID()}/${REGISTRY_OBJECT}`));
    await registry.register("webhook:p1:old.example", T0);
    await registry.register("webhook:p2:kept.example", T0);
    await registry.register("webhook:p2:kept.example", T0 + CIRCUIT_IDLE_TTL_MS);
    expect(await registry.keys(T0 + CIRCUIT_IDLE_TTL_MS + 1)).toEqual(["webhook:p2:kept.example"]);
    const rows = await runInDurableObject(registry, (_i: CircuitObject, state) => state.storage.sql.exec("SELECT key FROM known_keys").toArray());
    expect(rows).toHaveLength(1);
  });

  it("removes a breaker object idle for the TTL by its alarm, and keeps a used one", async () => {
    const { stub, ref } = circuit("webhook:p1:idle.example");
    await failFiveTimes(stub, ref);
    const alarmAt = () => runInDurableObject(stub, (_i: CircuitObject, state) => state.storage.getAlarm());
    expect(await alarmAt()).toBeGreaterThan(Date.now() + CIRCUIT_IDLE_TTL_MS - 60_000);
    // Used recently: the alarm only moves on.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot(ref, T0)).state).toBe("open");
    expect(await alarmAt()).toBeGreaterThan(Date.now() + CIRCUIT_IDLE_TTL_MS - 60_000);
    // Idle for the whole TTL: everything goes.
    await runInDurableObject(stub, async (_i: CircuitObject, state) => {
      state.storage.sql.exec("UPDATE activity SET touched_at = ?", Date.now() - CIRCUIT_IDLE_TTL_MS - 1);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_i: CircuitObject, state) => state.storage.sql.exec("SELECT * FROM circuit").toArray().length);
    expect(rows).toBe(0);
    expect((await stub.snapshot(ref, T0)).state).toBe("closed");
  });
});
