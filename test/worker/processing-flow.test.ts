import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { JobObject } from "../../src/jobs/object";
import { ProcessingError, type Processor } from "../../src/processing/processor";
import { isolateMemoryStorage } from "../../src/storage/memory";
import { StorageError, type ObjectStorage } from "../../src/storage/object-storage";
import { expectProblem } from "../support/problem";
import { fixture } from "../support/worker";
import { accepted, getJob, getSummary, jobStub, modelChunkRows, runAttempt, uniqueProject } from "../support/processing";
import { JobState } from "../../src/jobs/state";

/** Storage whose reads fail `failures` times with a transient error, then work. */
function flakyReads(failures: number): (base: ObjectStorage) => ObjectStorage {
  let left = failures;
  return (base) => ({
    driver: base.driver,
    put: (...args) => base.put(...args),
    head: (key) => base.head(key),
    delete: (key) => base.delete(key),
    ping: () => base.ping(),
    get: async (key, range) => {
      if (left > 0) {
        left--;
        throw new StorageError("R2 get failed", true);
      }
      return base.get(key, range);
    },
  });
}

async function scheduledAlarm(jobId: string): Promise<number | null> {
  return runInDurableObject(jobStub(jobId), (_object: JobObject, state) => state.storage.getAlarm());
}

/** Once processing is over, only notification deliveries may still hold the alarm; run them out. */
/** Once the notifications are done, the only alarm left is the job's expiry, JOB_RETENTION_DAYS (30) away. */
async function expectNoAlarmAfterNotifications(jobId: string): Promise<void> {
  const retentionSoon = () => Date.now() + 29 * 24 * 3_600_000;
  for (let round = 0; round < 5 && ((await scheduledAlarm(jobId)) ?? Number.POSITIVE_INFINITY) < retentionSoon(); round++) await runDurableObjectAlarm(jobStub(jobId));
  expect(await scheduledAlarm(jobId)).toBeGreaterThan(retentionSoon());
}

describe("job processing flow (mock processor)", () => {
  it("schedules processing when the upload is accepted and moves queued -> succeeded", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    expect(await scheduledAlarm(jobId)).toBeGreaterThan(Date.now());
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "queued", attempts: 0 });
    const notReady = await getSummary(projectId, jobId);
    expect(notReady.headers.get("retry-after")).toBe("2");
    expect(await expectProblem(notReady, 409, "summary-not-ready")).toMatchObject({ jobStatus: "queued" });

    expect(await runAttempt(jobId)).toBe(true);
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "succeeded", attempts: 1, summary: { schema: "IFC2X3", entityCount: 144, processor: { engine: "mock" } } });
    expect(job).not.toHaveProperty("attemptStartedAt");
    await expectNoAlarmAfterNotifications(jobId);
    expect((await getSummary(projectId, jobId)).status).toBe(200);
    // The job's private copy of the model is gone once it is done.
    expect(await modelChunkRows(jobId)).toBe(0);
    // A stray alarm after the end changes nothing.
    await runInDurableObject(jobStub(jobId), (_o: JobObject, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(jobStub(jobId));
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("copies the model into 1 MiB SQLite rows and reads ranges across them", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("duplex.ifc");
    const jobId = await accepted(projectId, bytes, "duplex.ifc");
    let rows = 0;
    let matches = false;
    const probe: Processor = {
      engine: "mock",
      input: "random-access",
      maxModelBytes: 1e9,
      async process(source) {
        rows = await runInDurableObject(jobStub(jobId), (_o: JobObject, state) =>
          state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM model_chunks").one().n,
        ).catch(() => -1);
        const offset = 1024 * 1024 - 100;
        matches =
          source.read(offset, 300).every((b, i) => b === bytes[offset + i]) &&
          source.read(bytes.byteLength - 10, 100).byteLength === 10 &&
          source.read(bytes.byteLength, 10).byteLength === 0;
        throw new ProcessingError("invalid_step", "probe done");
      },
    };
    await runAttempt(jobId, { processor: probe });
    expect(matches).toBe(true);
    expect(rows === 3 || rows === -1).toBe(true);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "failed", error: { code: "invalid_step", message: "probe done" } });
  });

  it("retries a storage read failure with backoff on alarms, then succeeds", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("example.ifc"), "example.ifc");
    const storage = flakyReads(2);
    // Backoff long enough that the runtime does not run the retry's alarm by itself before the
    // test looks at it: base 60 s, so the first retry waits half of that with random() = 0.5.
    const env = { PROCESSING_RETRY_BASE_MS: "60000", PROCESSING_RETRY_CAP_MS: "600000" };
    const before = Date.now();
    await runAttempt(jobId, { storage, random: () => 0.5, env });
    let job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "processing", attempts: 1 });
    expect(job.error).toBeUndefined();
    const next = await scheduledAlarm(jobId);
    expect(next).toBeGreaterThanOrEqual(before + 30_000);
    expect(next).toBeLessThan(Date.now() + 30_000 + 1_000);
    expect(Date.parse(job.nextAttemptAt ?? "")).toBe(next);

    await runAttempt(jobId, { storage, random: () => 0.5, env });
    job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "processing", attempts: 2 });

    await runAttempt(jobId, { storage });
    job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "succeeded", attempts: 3, summary: { entityCount: 6490 } });
    expect(job).not.toHaveProperty("nextAttemptAt");
  });

  it("gives up on a transient failure after PROCESSING_MAX_ATTEMPTS with storage_unavailable", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const overrides = { storage: flakyReads(100), env: { PROCESSING_MAX_ATTEMPTS: "2" } };
    await runAttempt(jobId, overrides);
    await runAttempt(jobId, overrides);
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "failed", attempts: 2, error: { code: "storage_unavailable" } });
    expect(job.error?.message).toMatch(/could not be read from storage.*Gave up after 2 attempts/);
    await expectNoAlarmAfterNotifications(jobId);
    const summary = await getSummary(projectId, jobId);
    expect(summary.headers.get("retry-after")).toBeNull();
    expect(await expectProblem(summary, 409, "summary-not-ready")).toMatchObject({ jobStatus: "failed", detail: expect.stringMatching(/failed \(storage_unavailable\)/) });
  });

  it("retries a failed summary write", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    let failPut = true;
    const storage = (base: ObjectStorage): ObjectStorage => ({
      ...base,
      driver: base.driver,
      get: (key, range) => base.get(key, range),
      head: (key) => base.head(key),
      delete: (key) => base.delete(key),
      ping: () => base.ping(),
      put: async (key, body, options) => {
        if (failPut) {
          failPut = false;
          await body.cancel();
          throw new StorageError("R2 put failed", true);
        }
        return base.put(key, body, options);
      },
    });
    await runAttempt(jobId, { storage });
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "processing", attempts: 1 });
    await runAttempt(jobId, { storage });
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("fails a corrupt model once, without retrying", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await runAttempt(jobId, { env: { MOCK_PROCESSOR_OUTCOME: "invalid_step" } });
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "failed", attempts: 1, error: { code: "invalid_step" } });
    await expectNoAlarmAfterNotifications(jobId);
  });

  it("fails a model over the processor's size limit with model_too_large before copying anything", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("example.ifc"), "example.ifc");
    let called = false;
    const small: Processor = {
      engine: "mock",
      input: "random-access",
      maxModelBytes: 1000,
      process: async () => {
        called = true;
        throw new Error("not reached");
      },
    };
    await runAttempt(jobId, { processor: small });
    const job = (await getJob(projectId, jobId)).body;
    expect(called).toBe(false);
    expect(job).toMatchObject({ status: "failed", attempts: 1, error: { code: "model_too_large" } });
    expect(job.error?.message).toMatch(/0\.4 MB; models up to 0\.0 MB/);
  });

  it("stops an asynchronous processor at PROCESSING_TIMEOUT_MS with processing_timeout", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await runAttempt(jobId, { env: { MOCK_PROCESSOR_DELAY_MS: "2000", PROCESSING_TIMEOUT_MS: "50" } });
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "failed", error: { code: "processing_timeout" } });
  });

  it("counts an attempt the runtime cut off and fails after the second with processing_timeout", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const interrupt = () =>
      runInDurableObject(jobStub(jobId), async (_o: JobObject, state) => {
        // What an attempt leaves behind when the isolate dies mid-way: the mark, and the watchdog alarm.
        new JobState(state.storage).startAttempt(Date.now(), Date.now());
        await state.storage.setAlarm(Date.now());
      });
    await interrupt();
    // The first lost attempt is retried (here the retry meets a storage hiccup) ...
    await runAttempt(jobId, { storage: flakyReads(1) });
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "processing", attempts: 2 });
    // ... and when the next one is cut off too, the job ends.
    await interrupt();
    await runDurableObjectAlarm(jobStub(jobId));
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "failed", attempts: 3, error: { code: "processing_timeout" } });
    expect(job.error?.message).toMatch(/cut off 2 times/);
  });

  it("treats an unexpected processor error as internal and retries it", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const broken: Processor = { engine: "mock", input: "random-access", maxModelBytes: 1e9, process: async () => Promise.reject(new TypeError("bug")) };
    await runAttempt(jobId, { processor: broken, env: { PROCESSING_MAX_ATTEMPTS: "1" } });
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "failed", attempts: 1, error: { code: "internal" } });
    expect(job.error?.message).toMatch(/Gave up after 1 attempt\./);
  });

  it("fails clearly when the uploaded object has disappeared from storage", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await isolateMemoryStorage.delete(`projects/${projectId}/models/${jobId}/test.ifc`);
    await runAttempt(jobId);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "failed", error: { code: "storage_unavailable", message: expect.stringMatching(/upload it again/) } });
  });

  it("keeps the job and looks again later when the configuration is invalid", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await runAttempt(jobId, { env: { PROCESSOR: "nonsense" } });
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "queued", attempts: 0 });
    expect(await scheduledAlarm(jobId)).toBeGreaterThan(Date.now());
  });

  it("answers 404 for the summary of another project's or an unknown job", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    await runAttempt(jobId);
    await expectProblem(await getSummary(projectId, jobId, ["someone-else"]), 404, "not-found");
    await expectProblem(await getSummary(projectId, crypto.randomUUID()), 404, "not-found");
    await expectProblem(await getSummary(projectId, "not-a-uuid"), 400, "validation-failed");
  });
});
