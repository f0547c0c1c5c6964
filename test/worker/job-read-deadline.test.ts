import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobTestOverrides } from "../../src/jobs/object";
import type { CircuitSnapshot } from "../../src/resilience/circuit-state";
import type { GetOptions, ObjectStorage } from "../../src/storage/object-storage";
import { policyWith } from "../support/policy";
import { sleep } from "../support/notify";
import { accepted, getJob, runAttempt, uniqueProject } from "../support/processing";
import { fixture } from "../support/worker";

const TIMEOUT_MS = 150;
const policy = policyWith({});

/** Storage whose reads never answer until their signal ends them; records what each read was given. */
function hangingReads(seen: { signals: (AbortSignal | undefined)[] }): (base: ObjectStorage) => ObjectStorage {
  return (base) => ({
    ...base,
    driver: base.driver,
    put: (...a) => base.put(...a),
    head: (k) => base.head(k),
    delete: (k) => base.delete(k),
    ping: () => base.ping(),
    get: (_key, _range, options?: GetOptions) => {
      const signal = options?.signal;
      seen.signals.push(signal);
      return new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    },
  });
}

async function storageSnapshot(scope: string): Promise<CircuitSnapshot> {
  const stub = env.CIRCUITS.get(env.CIRCUITS.idFromName(`${scope}storage`));
  let snapshot = await stub.snapshot({ key: "storage", policy }, Date.now());
  // The job reports its outcome in the background.
  for (let i = 0; i < 50 && snapshot.counters.timeouts === 0; i++) {
    await sleep(20);
    snapshot = await stub.snapshot({ key: "storage", policy }, Date.now());
  }
  return snapshot;
}

describe("a job's read of the stored model", () => {
  for (const processor of ["stream", "web-ifc"] as const) {
    it(`is cancelled at the storage deadline, counted as a timeout and retried later (${processor})`, async () => {
      const projectId = uniqueProject();
      const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
      const scope = `t-${crypto.randomUUID()}/`;
      const seen = { signals: [] as (AbortSignal | undefined)[] };
      const overrides: JobTestOverrides = {
        circuitScope: scope,
        env: { PROCESSOR: processor, STORAGE_TIMEOUT_MS: String(TIMEOUT_MS), PROCESSING_MAX_ATTEMPTS: "3" },
        random: () => 0,
        storage: hangingReads(seen),
      };
      await runAttempt(jobId, overrides);

      // The hanging read was given the deadline, and the deadline ended it.
      expect(seen.signals).toHaveLength(1);
      expect(seen.signals[0]?.aborted).toBe(true);
      const job = (await getJob(projectId, jobId)).body;
      // A retry is due: the job waits for it, with no error of its own.
      expect(job).toMatchObject({ status: "processing", attempts: 1 });
      expect(job.nextAttemptAt).toBeDefined();
      expect(job.error).toBeUndefined();
      expect((await storageSnapshot(scope)).counters.timeouts).toBe(1);
    });
  }

  it("does not end a body that streams for longer than the deadline once the model is open", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const signals: (AbortSignal | undefined)[] = [];
    const slowBody = (base: ObjectStorage): ObjectStorage => ({
      ...base,
      driver: base.driver,
      put: (...a) => base.put(...a),
      head: (k) => base.head(k),
      delete: (k) => base.delete(k),
      ping: () => base.ping(),
      get: async (key, range, options) => {
        signals.push(options?.signal);
        const object = await base.get(key, range, options);
        if (!object) return null;
        // The bytes begin to flow only after the storage deadline has passed.
        const delayed = new TransformStream<Uint8Array, Uint8Array>({ start: () => sleep(TIMEOUT_MS * 2) });
        return { ...object, body: object.body.pipeThrough(delayed) };
      },
    });
    const overrides: JobTestOverrides = {
      circuitScope: `t-${crypto.randomUUID()}/`,
      env: { PROCESSOR: "stream", STORAGE_TIMEOUT_MS: String(TIMEOUT_MS) },
      storage: slowBody,
    };
    await runAttempt(jobId, overrides);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((signal) => signal !== undefined && !signal.aborted)).toBe(true);
  });
});
