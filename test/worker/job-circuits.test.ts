import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobObject, JobTestOverrides } from "../../src/jobs/object";
import type { Processor } from "../../src/processing/processor";
import type { CircuitSnapshot } from "../../src/resilience/circuit-state";
import { CIRCUIT_CACHE_MS } from "../../src/resilience/local-view";
import type { ObjectStorage } from "../../src/storage/object-storage";
import { policyWith } from "../support/policy";
import { sleep } from "../support/notify";
import { accepted, getJob, jobStub, modelChunkRows, runAttempt, uniqueProject } from "../support/processing";
import { fixture } from "../support/worker";

const RESET_MS = 500;
const policy = policyWith({ breaker: { resetMs: RESET_MS } });

/** Breakers of the test's own (a unique circuit scope), with a short reset and no jitter on waits. */
function scoped(extra: JobTestOverrides = {}) {
  const scope = `t-${crypto.randomUUID()}/`;
  const overrides: JobTestOverrides = { circuitScope: scope, env: { BREAKER_RESET_MS: String(RESET_MS) }, random: () => 0, ...extra };
  const circuit = (key: string) => env.CIRCUITS.get(env.CIRCUITS.idFromName(`${scope}${key}`));
  return {
    overrides,
    /** Opens `key` as five failures reported from anywhere would. */
    open: async (key: string): Promise<void> => {
      for (let i = 0; i < 5; i++) await circuit(key).report({ key, policy }, { outcome: "failure", latencyMs: 1, probe: false }, Date.now());
      expect((await circuit(key).snapshot({ key, policy }, Date.now())).state).toBe("open");
    },
    /** The breaker once the job's background reports have arrived. */
    settledSnapshot: async (key: string, state: CircuitSnapshot["state"]): Promise<CircuitSnapshot> => {
      let snapshot = await circuit(key).snapshot({ key, policy }, Date.now());
      for (let i = 0; i < 50 && snapshot.state !== state; i++) {
        await sleep(20);
        snapshot = await circuit(key).snapshot({ key, policy }, Date.now());
      }
      return snapshot;
    },
  };
}

const scheduledAlarm = (jobId: string): Promise<number | null> =>
  runInDurableObject(jobStub(jobId), (_object: JobObject, state) => state.storage.getAlarm());

/** Counts reads of the model, to show a turned-away attempt did not copy it. */
function countingReads(counter: { gets: number }): (base: ObjectStorage) => ObjectStorage {
  return (base) => ({ ...base, driver: base.driver, put: (...a) => base.put(...a), head: (k) => base.head(k), delete: (k) => base.delete(k), ping: () => base.ping(), get: (key, range) => {
    counter.gets++;
    return base.get(key, range);
  } });
}

describe("a job behind open breakers", () => {
  it("stays queued without using an attempt while the processor breaker is open, and succeeds once it closes", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const circuits = scoped();
    const reads = { gets: 0 };
    const overrides = { ...circuits.overrides, storage: countingReads(reads) };
    await circuits.open("processor");

    const before = Date.now();
    expect(await runAttempt(jobId, overrides)).toBe(true);
    let job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "queued", attempts: 0 });
    expect(job.error).toBeUndefined();
    // Re-armed for when the breaker half-opens (no jitter here), not for the next backoff step.
    const alarm = await scheduledAlarm(jobId);
    expect(alarm).toBeGreaterThan(before);
    expect(alarm).toBeLessThanOrEqual(Date.now() + RESET_MS);
    expect(Date.parse(job.nextAttemptAt ?? "")).toBe(alarm);
    // Asked before anything else: the model was not even read.
    expect(reads.gets).toBe(0);
    expect(await modelChunkRows(jobId)).toBe(0);

    // The alarm comes back while it is still open: still waiting, still no attempt used.
    await runAttempt(jobId, overrides);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "queued", attempts: 0 });

    await sleep(RESET_MS + 50);
    await runAttempt(jobId, overrides);
    job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "succeeded", attempts: 1, summary: { entityCount: 144 } });
    expect(job).not.toHaveProperty("nextAttemptAt");
    // The job's run was the half-open probe, and its success closed the breaker.
    expect(await circuits.settledSnapshot("processor", "closed")).toMatchObject({ state: "closed", counters: { successes: 1 } });
  });

  it("gives back the attempt and waits when the storage breaker turns the model read away", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const circuits = scoped();
    const reads = { gets: 0 };
    const overrides = { ...circuits.overrides, storage: countingReads(reads) };
    await circuits.open("storage");

    await runAttempt(jobId, overrides);
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "queued", attempts: 0 });
    expect(job).not.toHaveProperty("error");
    expect(reads.gets).toBe(0);
    expect(await scheduledAlarm(jobId)).toBeLessThanOrEqual(Date.now() + RESET_MS);
    // Nothing of the turned-away attempt is left to be mistaken for one the runtime cut off.
    await runAttempt(jobId, overrides);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "queued", attempts: 0 });

    await sleep(RESET_MS + 50);
    await runAttempt(jobId, overrides);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(reads.gets).toBe(1);
    expect(await circuits.settledSnapshot("storage", "closed")).toMatchObject({ state: "closed" });
  });

  it("keeps a later attempt's status and attempt count while it waits for storage", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    // The retry after the crash is an hour out, so the runtime does not run it before the test does.
    // A reset longer than the cache's second, so the breaker is still open when the cache has expired.
    const circuits = scoped({ env: { BREAKER_RESET_MS: "10000", PROCESSING_RETRY_BASE_MS: "3600000", PROCESSING_RETRY_CAP_MS: "3600000" }, random: () => 0.5 });
    const crashing: Processor = { engine: "mock", input: "random-access", maxModelBytes: 1e9, process: async () => Promise.reject(new TypeError("wasm trap")) };
    await runAttempt(jobId, { ...circuits.overrides, processor: crashing });
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "processing", attempts: 1 });

    await circuits.open("storage");
    // The first attempt's read left "closed" in this isolate's cache, which may be used for up to a second.
    await sleep(CIRCUIT_CACHE_MS + 20);
    await runAttempt(jobId, circuits.overrides);
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "processing", attempts: 1 });
    const alarm = await scheduledAlarm(jobId);
    expect(Date.parse(job.nextAttemptAt ?? "")).toBe(alarm);
    // Until the breaker half-opens, plus half of the second of jitter (random() = 0.5).
    expect(alarm).toBeLessThanOrEqual(Date.now() + 10_000 + 500);
  });

  it("counts a crashing processor against the processor breaker, but not a corrupt model", async () => {
    const projectId = uniqueProject();
    // Retries an hour out: the crashed jobs must not come back by themselves during the test.
    const circuits = scoped({ env: { BREAKER_RESET_MS: String(RESET_MS), PROCESSING_RETRY_BASE_MS: "3600000", PROCESSING_RETRY_CAP_MS: "3600000" }, random: () => 0.5 });
    const corrupt = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await runAttempt(corrupt, { ...circuits.overrides, env: { ...circuits.overrides.env, MOCK_PROCESSOR_OUTCOME: "invalid_step" } });
    expect((await getJob(projectId, corrupt)).body).toMatchObject({ status: "failed", error: { code: "invalid_step" } });
    expect(await circuits.settledSnapshot("processor", "closed")).toMatchObject({ counters: { clientErrors: 1, failures: 0 } });

    const crashing: Processor = { engine: "mock", input: "random-access", maxModelBytes: 1e9, process: async () => Promise.reject(new TypeError("wasm trap")) };
    const jobs = await Promise.all([1, 2, 3, 4, 5].map(async () => accepted(projectId, await fixture("test.ifc"), "test.ifc")));
    for (const jobId of jobs) await runAttempt(jobId, { ...circuits.overrides, processor: crashing });
    const opened = await circuits.settledSnapshot("processor", "open");
    expect(opened).toMatchObject({ state: "open", counters: { failures: 5, opened: 1 } });

    // A sixth job meets the open breaker: it waits instead of failing an attempt of its own.
    const sixth = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await runAttempt(sixth, { ...circuits.overrides, processor: crashing });
    expect((await getJob(projectId, sixth)).body).toMatchObject({ status: "queued", attempts: 0 });
    for (const jobId of jobs) expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "processing", attempts: 1 });
  });
});
