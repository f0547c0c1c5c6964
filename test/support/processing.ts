import type { SettingValues } from "../../src/config";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { JobView } from "../../src/jobs/record";
import { JobObject, type JobTestOverrides } from "../../src/jobs/object";
import type { ModelSummary } from "../../src/processing/summary";
import { api, call, token, upload } from "./worker";

export { uniqueProject } from "./worker";

export const jobStub = (jobId: string) => env.JOBS.get(env.JOBS.idFromName(jobId));

/** Rows of the job's private model copy (web-ifc's chunks); 0 when it has no copy at all. */
export async function modelChunkRows(jobId: string): Promise<number> {
  return runInDurableObject(jobStub(jobId), (_object: JobObject, state) => {
    const sql = state.storage.sql;
    if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'model_chunks'").toArray().length === 0) return 0;
    return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM model_chunks").one().n;
  });
}

/** Uploads a model and answers its job id (the upload must be accepted). */
export async function accepted(projectId: string, bytes: Uint8Array, name: string, overrides: SettingValues = {}): Promise<string> {
  const response = await upload(projectId, bytes, { filename: name, overrides });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

/** Sets the job object's test overrides, then runs its scheduled alarm (one attempt). */
export async function runAttempt(jobId: string, overrides?: JobTestOverrides): Promise<boolean> {
  const stub = jobStub(jobId);
  if (overrides) await runInDurableObject(stub, (object: JobObject) => JobObject.overrideForTests(object, overrides));
  return runDurableObjectAlarm(stub);
}

export async function getJob(projectId: string, jobId: string): Promise<{ status: number; body: JobView }> {
  const response = await call(new Request(api(`/v1/jobs/${jobId}`), { headers: { authorization: `Bearer ${await token([projectId])}` } }));
  return { status: response.status, body: (await response.json()) as JobView };
}

export async function getSummary(projectId: string, jobId: string, projects = [projectId]): Promise<Response> {
  return call(new Request(api(`/v1/jobs/${jobId}/summary`), { headers: { authorization: `Bearer ${await token(projects)}` } }));
}

/** Materials as sorted [name, associatedObjects] pairs: the multiset expected.jsonl lists. */
export function materialPairs(summary: ModelSummary): [string, number][] {
  return summary.materials
    .map((m): [string, number] => [m.name, m.associatedObjects])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x - y));
}

export function sortedPairs(pairs: [string, number][]): [string, number][] {
  return [...pairs].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x - y));
}
