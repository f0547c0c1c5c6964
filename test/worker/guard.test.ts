import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CircuitObject } from "../../src/circuits/object";
import { CircuitOpenError, DependencyTimeoutError } from "../../src/resilience/errors";
import { CircuitClient, type CircuitClientOptions, defaultClassifier, guard } from "../../src/circuits/client";
import { DEFAULT_POLICY, policyWith } from "../support/policy";

const policy = policyWith({ breaker: { resetMs: 1000 } });

/** Counts what reaches the objects, and lets a test hold reports back or fail admissions. */
function spiedNamespace(options: { holdReports?: boolean; failAdmit?: boolean; failSpend?: boolean } = {}) {
  const calls = { admit: 0, report: 0, releaseProbe: 0 };
  const namespace = {
    idFromName: (name: string) => env.CIRCUITS.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = env.CIRCUITS.get(id);
      return {
        admit: (...args: Parameters<CircuitObject["admit"]>) => {
          calls.admit++;
          return options.failAdmit ? Promise.reject(new Error("object unreachable")) : real.admit(...args);
        },
        report: (...args: Parameters<CircuitObject["report"]>) => {
          calls.report++;
          return options.holdReports ? new Promise(() => undefined) : real.report(...args);
        },
        reportBatch: (...args: Parameters<CircuitObject["reportBatch"]>) => {
          calls.report++;
          return options.holdReports ? new Promise(() => undefined) : real.reportBatch(...args);
        },
        releaseProbe: (...args: Parameters<CircuitObject["releaseProbe"]>) => {
          calls.releaseProbe++;
          return real.releaseProbe(...args);
        },
        spendRetry: (...args: Parameters<CircuitObject["spendRetry"]>) =>
          options.failSpend ? Promise.reject(new Error("object unreachable")) : real.spendRetry(...args),
        snapshot: (...args: Parameters<CircuitObject["snapshot"]>) => real.snapshot(...args),
        register: (...args: Parameters<CircuitObject["register"]>) => real.register(...args),
        keys: () => real.keys(),
      };
    },
  } as unknown as DurableObjectNamespace<CircuitObject>;
  return { namespace, calls };
}

interface Harness {
  client: CircuitClient;
  clock: { now: number };
  settled: () => Promise<void>;
}

/** A client with its own breaker names, a settable clock and a waitUntil the test can await. */
function harness(overrides: Partial<CircuitClientOptions> = {}): Harness {
  const clock = { now: Date.UTC(2026, 10, 1) };
  const pending: Promise<unknown>[] = [];
  const client = new CircuitClient({
    namespace: env.CIRCUITS,
    policy,
    scope: `guard-${crypto.randomUUID()}/`,
    now: () => clock.now,
    waitUntil: (promise) => pending.push(promise),
    ...overrides,
  });
  return { client, clock, settled: async () => void (await Promise.all(pending.splice(0))) };
}

const failing = (status = 503) => async () => {
  throw Object.assign(new Error(`dependency answered ${status}`), { retryable: status >= 500 });
};

async function failTimes(h: Harness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(h.client.guard("storage", failing(), { timeoutMs: 1000 })).rejects.toThrow(/503/);
}

describe("guard", () => {
  it("runs the call with a deadline signal and reports its success in the background", async () => {
    const h = harness();
    let seen: AbortSignal | undefined;
    const result = await guard("storage", async (signal) => ((seen = signal), "stored"), { client: h.client, timeoutMs: 1000 });
    expect(result).toBe("stored");
    expect(seen?.aborted).toBe(false);
    await h.settled();
    expect(await h.client.snapshot("storage")).toMatchObject({ state: "closed", counters: { calls: 1, successes: 1 } });
  });

  it("lets the fifth consecutive failure through and turns the sixth call away without running it", async () => {
    const h = harness();
    await failTimes(h, 4);
    await h.settled();
    expect((await h.client.snapshot("storage")).state).toBe("closed");
    await failTimes(h, 1);
    let ran = false;
    const rejected = h.client.guard("storage", async () => void (ran = true), { timeoutMs: 1000 });
    await expect(rejected).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(rejected).rejects.toMatchObject({ key: "storage", state: "open" });
    expect(ran).toBe(false);
    await h.settled();
    expect(await h.client.snapshot("storage")).toMatchObject({ state: "open", counters: { failures: 5, opened: 1 } });
  });

  it("opens in this isolate at once, before the object has heard of the failures", async () => {
    const spy = spiedNamespace({ holdReports: true });
    const h = harness({ namespace: spy.namespace });
    await failTimes(h, 5);
    const asked = spy.calls.admit;
    await expect(h.client.admit("storage")).rejects.toMatchObject({ key: "storage", retryAfterMs: 1000 });
    // Decided here: the object was not asked, and has not even heard of the failures yet.
    expect(spy.calls.admit).toBe(asked);
    expect(spy.calls.report).toBe(5);
  });

  it("tells the object about a burst of successes in two calls, counting every one", async () => {
    const spy = spiedNamespace();
    const h = harness({ namespace: spy.namespace });
    await h.client.guard("storage", async () => "ok", { timeoutMs: 1000 });
    await h.settled();
    const before = spy.calls.report;
    await Promise.all(Array.from({ length: 50 }, () => h.client.guard("storage", async () => "ok", { timeoutMs: 1000 })));
    await h.settled();
    // The first report goes alone; the other 49 arrive while it is on its way and go together.
    expect(spy.calls.report - before).toBe(2);
    expect(await h.client.snapshot("storage")).toMatchObject({ state: "closed", counters: { calls: 51, successes: 51 } });
  });

  it("asks the object at most once a second while closed", async () => {
    const spy = spiedNamespace();
    const h = harness({ namespace: spy.namespace });
    for (let i = 0; i < 10; i++) await h.client.guard("storage", async () => "ok", { timeoutMs: 1000 });
    expect(spy.calls.admit).toBe(1);
    h.clock.now += 999;
    await h.client.admit("storage");
    expect(spy.calls.admit).toBe(1);
    h.clock.now += 1;
    await h.client.admit("storage");
    expect(spy.calls.admit).toBe(2);
  });

  it("acts on an opening reported elsewhere within a second", async () => {
    const slow = DEFAULT_POLICY;
    const scope = `guard-${crypto.randomUUID()}/`;
    const h = harness({ scope, policy: slow });
    await h.client.admit("storage");
    // Failures reported by another isolate go straight to the object, not through this cache.
    const stub = env.CIRCUITS.get(env.CIRCUITS.idFromName(`${scope}storage`));
    for (let i = 0; i < 5; i++) {
      await stub.report({ key: "storage", policy: slow }, { outcome: "failure", latencyMs: 1, probe: false }, h.clock.now);
    }
    h.clock.now += 999;
    expect((await h.client.admit("storage")).probe).toBe(false);
    h.clock.now += 1;
    await expect(h.client.admit("storage")).rejects.toMatchObject({ state: "open", retryAfterMs: 59_000 });
  });

  it("turns a call that ignores its signal into a timeout at the deadline", async () => {
    const h = harness();
    const started = Date.now();
    const call = h.client.guard("storage", () => new Promise<never>(() => undefined), { timeoutMs: 50 });
    await expect(call).rejects.toBeInstanceOf(DependencyTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    await h.settled();
    expect((await h.client.snapshot("storage")).counters).toMatchObject({ timeouts: 1, failures: 0 });
  });

  it("counts a call that gives up on its aborted signal as a timeout and keeps its error", async () => {
    const h = harness();
    const call = h.client.guard(
      "storage",
      (signal) =>
        new Promise<never>((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("fetch aborted")))),
      { timeoutMs: 30 },
    );
    await expect(call).rejects.toThrow(/fetch aborted|did not answer/);
    await h.settled();
    expect((await h.client.snapshot("storage")).counters.timeouts).toBe(1);
  });

  it("never opens on client errors from the dependency, but reports them", async () => {
    const h = harness();
    for (let i = 0; i < 8; i++) {
      await expect(h.client.guard("storage", failing(403), { timeoutMs: 1000 })).rejects.toThrow(/403/);
    }
    await h.settled();
    expect(await h.client.snapshot("storage")).toMatchObject({ state: "closed", counters: { clientErrors: 8, failures: 0 } });
    expect(defaultClassifier(new Error("plain"))).toBe("failure");
    expect(defaultClassifier("a string")).toBe("failure");
  });

  it("uses the adapter's classifier", async () => {
    const h = harness();
    for (let i = 0; i < 6; i++) {
      await expect(h.client.guard("storage", failing(503), { timeoutMs: 1000, classify: () => "client-error" })).rejects.toThrow(/503/);
    }
    await h.settled();
    expect(await h.client.snapshot("storage")).toMatchObject({ state: "closed", counters: { clientErrors: 6, failures: 0 } });
  });

  it("half-opens after the reset time, lets one probe through and closes on its success", async () => {
    const h = harness();
    await failTimes(h, 5);
    await h.settled();
    h.clock.now += 999;
    await expect(h.client.admit("storage")).rejects.toBeInstanceOf(CircuitOpenError);
    h.clock.now += 1;
    const [a, b] = await Promise.allSettled([h.client.admit("storage"), h.client.admit("storage")]);
    const admitted = [a, b].filter((r) => r.status === "fulfilled");
    const refused = [a, b].filter((r) => r.status === "rejected");
    expect(admitted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: { state: "half-open" } });
    const permit = admitted[0]?.status === "fulfilled" ? admitted[0].value : undefined;
    expect(permit?.probe).toBe(true);
    if (!permit) return;
    await h.client.guard("storage", async () => "ok", { timeoutMs: 1000, permit });
    await h.settled();
    h.clock.now += 1000;
    expect((await h.client.admit("storage")).probe).toBe(false);
    expect((await h.client.snapshot("storage")).state).toBe("closed");
  });

  it("frees the probe slot when the probe's permit is released unused", async () => {
    const spy = spiedNamespace();
    const h = harness({ namespace: spy.namespace });
    await failTimes(h, 5);
    await h.settled();
    h.clock.now += 1000;
    const permit = await h.client.admit("storage");
    expect(permit.probe).toBe(true);
    h.client.release(permit);
    h.client.release(permit);
    await h.settled();
    expect(spy.calls.releaseProbe).toBe(1);
    expect((await h.client.admit("storage")).probe).toBe(true);
  });

  it("refuses to use one permit twice or for another dependency", async () => {
    const h = harness();
    const permit = await h.client.admit("storage");
    await h.client.guard("storage", async () => 1, { timeoutMs: 1000, permit });
    await expect(h.client.guard("storage", async () => 2, { timeoutMs: 1000, permit })).rejects.toThrow(/already used/);
    await expect(h.client.guard("sqs", async () => 3, { timeoutMs: 1000, permit: await h.client.admit("storage") })).rejects.toThrow(
      /cannot admit/,
    );
  });

  it("lets calls through when the circuit object cannot be reached", async () => {
    const h = harness({ namespace: spiedNamespace({ failAdmit: true }).namespace });
    expect(await h.client.guard("sqs", async () => "sent", { timeoutMs: 1000 })).toBe("sent");
  });

  it("spends the dependency's retry budget for inline retries", async () => {
    const h = harness({ policy: { ...policy, budget: { ...policy.budget, maxTokens: 10 } } });
    const granted = await h.client.guard(
      "sqs",
      async (_signal, tools) => [await tools.spendRetry("retry"), await tools.spendRetry("retry"), await tools.spendRetry("timeout")],
      { timeoutMs: 1000 },
    );
    expect(granted).toEqual([true, true, false]);
    await h.settled();
    expect((await h.client.snapshot("sqs")).retryBudget).toEqual({ tokens: 1, maxTokens: 10 });
  });

  it("allows an inline retry when the budget's object cannot be reached", async () => {
    const h = harness({ namespace: spiedNamespace({ failSpend: true }).namespace });
    expect(await h.client.spendRetry("storage", "retry")).toBe(true);
    expect(await h.client.retryBudget("storage")("timeout")).toBe(true);
  });

  it("hands out a key's budget as an adapter's retry hook", async () => {
    const h = harness({ policy: { ...policy, budget: { ...policy.budget, maxTokens: 5 } } });
    const spend = h.client.retryBudget("storage");
    expect([await spend("retry"), await spend("retry")]).toEqual([true, false]);
  });

  it("lists webhook hosts next to the fixed dependencies once they were used", async () => {
    const h = harness();
    await h.client.guard("webhook:p1:hooks.example.com", async () => "delivered", { timeoutMs: 1000 });
    await h.client.guard("webhook:p1:hooks.example.com", async () => "delivered", { timeoutMs: 1000 });
    await h.settled();
    expect(await h.client.knownKeys()).toEqual(["storage", "sqs", "processor", "webhook:p1:hooks.example.com"]);
    expect((await h.client.snapshots()).map((s) => s.key)).toContain("webhook:p1:hooks.example.com");
  });

  it("rejects a key that is not a dependency", async () => {
    const h = harness();
    await expect(h.client.admit("registry")).rejects.toThrow(/not a circuit key/);
  });

  it("reports in the background without waitUntil too", async () => {
    const h = harness({ waitUntil: undefined });
    await h.client.guard("processor", async () => "summarised", { timeoutMs: 1000 });
    await expect.poll(async () => (await h.client.snapshot("processor")).counters.calls).toBe(1);
  });
});
