import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { JobObject } from "../../src/jobs/object";
import { accepted, jobStub, runAttempt } from "../support/processing";
import { api, call, fixture, token, uniqueProject } from "../support/worker";

const r2 = { STORAGE_DRIVER: "r2" } as const;

/** The tables a job object holds: none means it stores nothing at all. */
const tables = (jobId: string) =>
  runInDurableObject(jobStub(jobId), (_object: JobObject, state) =>
    state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((row) => row.name),
  );

describe("a job object's storage", () => {
  it("is not created by reading a job that does not exist", async () => {
    const jobId = crypto.randomUUID();
    const read = await call(new Request(api(`/v1/jobs/${jobId}`), { headers: { authorization: `Bearer ${await token(["*"])}` } }));
    expect(read.status).toBe(404);
    expect(await tables(jobId)).toEqual([]);
  });

  it("is removed whole by DELETE: record, reply, events and the copy of the model", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc", r2);
    expect(await runAttempt(jobId, { env: r2 })).toBe(true);
    expect((await tables(jobId)).length).toBeGreaterThan(0);
    const response = await call(new Request(api(`/v1/jobs/${jobId}`), { method: "DELETE", headers: { authorization: `Bearer ${await token([projectId])}` } }), r2);
    expect(response.status).toBe(204);
    expect(await tables(jobId)).toEqual([]);
  });
});
