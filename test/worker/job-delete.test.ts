import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isolateMemoryStorage } from "../../src/storage/memory";
import { StorageError, type ObjectStorage } from "../../src/storage/object-storage";
import { scopedApp } from "../support/scoped-app";
import { expectDocumented, testClient } from "../support/documented";
import { accepted, runAttempt } from "../support/processing";
import { expectProblem } from "../support/problem";
import { api, call, fixture, token, uniqueProject } from "../support/worker";

const r2 = { STORAGE_DRIVER: "r2" } as const;
const JOB = "/v1/jobs/{jobId}";

async function stored(projectId: string): Promise<string[]> {
  const listed = await env.MODELS?.list({ prefix: `projects/${projectId}/` });
  return (listed?.objects.map((o) => o.key) ?? []).sort();
}

async function remove(jobId: string, projects: string[] | null): Promise<Response> {
  const headers: Record<string, string> = projects ? { authorization: `Bearer ${await token(projects)}` } : {};
  return call(new Request(api(`/v1/jobs/${jobId}`), { method: "DELETE", headers }), r2);
}

describe("DELETE /v1/jobs/{jobId}", () => {
  it("removes the model, its summary.json and the record: 204, then 404, and the job leaves the listing", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc", r2);
    expect(await runAttempt(jobId, { env: r2 })).toBe(true);
    expect(await stored(projectId)).toEqual([`projects/${projectId}/models/${jobId}/summary.json`, `projects/${projectId}/models/${jobId}/test.ifc`]);
    const client = await testClient([projectId]);
    expect((await client.listJobs(projectId)).items).toHaveLength(1);

    const response = await remove(jobId, [projectId]);
    expect(response.status).toBe(204);
    await expectDocumented("delete", JOB, response);
    expect(await stored(projectId)).toEqual([]);
    expect((await client.listJobs(projectId)).items).toEqual([]);
    const again = await remove(jobId, [projectId]);
    await expectProblem(again.clone(), 404, "not-found");
    await expectDocumented("delete", JOB, again);
    const read = await call(new Request(api(`/v1/jobs/${jobId}`), { headers: { authorization: `Bearer ${await token([projectId])}` } }));
    await expectProblem(read, 404, "not-found");
  });

  it("deletes a job that is still queued, and its alarm with it", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc", r2);
    expect((await remove(jobId, [projectId])).status).toBe(204);
    expect(await stored(projectId)).toEqual([]);
    expect(await runAttempt(jobId)).toBe(false);
  });

  it("answers 404 for another project's job and leaves it whole", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc", r2);
    const response = await remove(jobId, ["someone-else"]);
    await expectProblem(response.clone(), 404, "not-found");
    await expectDocumented("delete", JOB, response);
    expect(await stored(projectId)).toHaveLength(1);
    expect((await (await testClient([projectId])).getJob(jobId)).status).toBe("queued");
  });

  it("keeps the job when storage cannot remove its files: 503 storage-unavailable", async () => {
    // A fake for a fault the real memory store cannot show: deletes that fail.
    const base = isolateMemoryStorage;
    const failingDeletes: ObjectStorage = {
      driver: base.driver,
      put: (...args) => base.put(...args),
      get: (...args) => base.get(...args),
      head: (key) => base.head(key),
      ping: () => base.ping(),
      delete: () => Promise.reject(new StorageError("store is down", true)),
    };
    const app = scopedApp({ storage: () => failingDeletes });
    const projectId = uniqueProject();
    const bearer = { authorization: `Bearer ${await token([projectId])}` };
    const upload = await app.fetch(new Request(api(`/v1/projects/${projectId}/models?filename=t.ifc`), { method: "POST", headers: bearer, body: await fixture("test.ifc") }));
    const { jobId } = (await upload.json()) as { jobId: string };
    const response = await app.fetch(new Request(api(`/v1/jobs/${jobId}`), { method: "DELETE", headers: bearer }));
    await expectProblem(response.clone(), 503, "storage-unavailable");
    expect(((await expectDocumented("delete", JOB, response)) as { type: string }).type).toMatch(/storage-unavailable$/);
    expect((await app.fetch(new Request(api(`/v1/jobs/${jobId}`), { headers: bearer }))).status).toBe(200);
  });

  it("needs a token", async () => {
    const response = await remove(crypto.randomUUID(), null);
    await expectProblem(response.clone(), 401, "unauthorized");
    await expectDocumented("delete", JOB, response);
  });
});
