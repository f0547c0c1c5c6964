import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobObject } from "../../src/jobs/object";
import { RETENTION_RETRY_MS } from "../../src/jobs/retention";
import { StorageError, type ObjectStorage } from "../../src/storage/object-storage";
import { testClient } from "../support/documented";
import { accepted, jobStub, runAttempt } from "../support/processing";
import { expectProblem } from "../support/problem";
import { api, call, fixture, token, uniqueProject } from "../support/worker";

const r2 = { STORAGE_DRIVER: "r2" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

async function stored(projectId: string): Promise<string[]> {
  const listed = await env.MODELS?.list({ prefix: `projects/${projectId}/` });
  return (listed?.objects.map((o) => o.key) ?? []).sort();
}

const inJob = <T>(jobId: string, fn: (state: DurableObjectState) => T) => runInDurableObject(jobStub(jobId), (_object: JobObject, state) => fn(state));

/** Moves the job's finish back in time, as if that much had passed since. */
const finishedAgo = (jobId: string, ms: number) =>
  inJob(jobId, (state) => {
    state.storage.sql.exec("UPDATE job SET finished_at = ?", Date.now() - ms);
  });

async function finishedJob(projectId: string): Promise<string> {
  const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc", r2);
  expect(await runAttempt(jobId, { env: r2 })).toBe(true);
  return jobId;
}

const readJob = async (projectId: string, jobId: string) =>
  call(new Request(api(`/v1/jobs/${jobId}`), { headers: { authorization: `Bearer ${await token([projectId])}` } }));

describe("job retention (JOB_RETENTION_DAYS)", () => {
  it("records when the job finished and keeps its alarm armed for the retention", async () => {
    const projectId = uniqueProject();
    const before = Date.now();
    const jobId = await finishedJob(projectId);
    const finishedAt = await inJob(jobId, (state) => state.storage.sql.exec<{ at: number }>("SELECT finished_at AS at FROM job").one().at);
    expect(finishedAt).toBeGreaterThanOrEqual(before);
    // Other work (a delivery) may be due sooner; the retention is due at the latest.
    const alarm = await inJob(jobId, (state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(finishedAt + 30 * DAY_MS);
  });

  it("removes the model, summary.json, listing entry and record once the retention has passed: the job answers 404", async () => {
    const projectId = uniqueProject();
    const jobId = await finishedJob(projectId);
    expect(await stored(projectId)).toEqual([`projects/${projectId}/models/${jobId}/summary.json`, `projects/${projectId}/models/${jobId}/test.ifc`]);
    const client = await testClient([projectId]);
    expect((await client.listJobs(projectId)).items).toHaveLength(1);

    // Not yet: a day short of the retention, the job stays whole.
    await finishedAgo(jobId, 2 * DAY_MS);
    await runAttempt(jobId, { env: { ...r2, JOB_RETENTION_DAYS: "3" } });
    expect((await readJob(projectId, jobId)).status).toBe(200);

    await finishedAgo(jobId, 3 * DAY_MS + 1_000);
    await runAttempt(jobId, { env: { ...r2, JOB_RETENTION_DAYS: "3" } });
    await expectProblem(await readJob(projectId, jobId), 404, "not-found");
    expect(await stored(projectId)).toEqual([]);
    expect((await client.listJobs(projectId)).items).toEqual([]);
    const tables = await inJob(jobId, (state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray());
    expect(tables).toEqual([]);
    expect(await inJob(jobId, (state) => state.storage.getAlarm())).toBeNull();
  });

  it("keeps an expired job whose model storage cannot remove, and tries again later", async () => {
    const projectId = uniqueProject();
    const jobId = await finishedJob(projectId);
    await finishedAgo(jobId, 31 * DAY_MS);
    const failingDeletes = (base: ObjectStorage): ObjectStorage => ({
      ...base,
      driver: base.driver,
      get: (...a) => base.get(...a),
      put: (...a) => base.put(...a),
      head: (k) => base.head(k),
      ping: () => base.ping(),
      delete: () => Promise.reject(new StorageError("storage is down", true)),
    });
    const before = Date.now();
    await runAttempt(jobId, { env: r2, storage: failingDeletes, circuitScope: `t-${crypto.randomUUID()}/` });
    expect((await readJob(projectId, jobId)).status).toBe(200);
    expect(await stored(projectId)).toHaveLength(2);
    const alarm = await inJob(jobId, (state) => state.storage.getAlarm());
    expect(alarm ?? 0).toBeGreaterThanOrEqual(before + RETENTION_RETRY_MS);

    await runAttempt(jobId, { env: r2 });
    await expectProblem(await readJob(projectId, jobId), 404, "not-found");
    expect(await stored(projectId)).toEqual([]);
  });
});
