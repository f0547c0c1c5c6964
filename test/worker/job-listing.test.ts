import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobListItem } from "../../src/api/jobs";
import { ApiError } from "../../src/client";
import { LISTING_RETRY_MS } from "../../src/jobs/listing";
import type { JobObject } from "../../src/jobs/object";
import { type ProjectJobIndex, durableProjectJobIndex } from "../../src/projects/client";
import { expectDocumented, testClient } from "../support/documented";
import { accepted, jobStub, runAttempt } from "../support/processing";
import { expectProblem } from "../support/problem";
import { api, call, fixture, token, uniqueProject } from "../support/worker";

/** A fake for the one fault the real project object cannot be made to show: being unreachable. */
const unreachableListing: ProjectJobIndex = {
  indexJob: () => Promise.reject(new Error("project object unreachable")),
  forgetJob: () => Promise.reject(new Error("project object unreachable")),
};

const LIST = "/v1/projects/{projectId}/jobs";

function item(projectId: string, n: number, status: JobListItem["status"] = "queued", updatedAt?: string): JobListItem {
  const createdAt = new Date(Date.UTC(2026, 10, 30, 1, 0, n)).toISOString();
  return {
    jobId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    projectId,
    status,
    file: { name: `model-${n}.ifc`, size: 1000 + n, sha256: "a".repeat(64), schema: "IFC4" },
    attempts: status === "queued" ? 0 : 1,
    notifications: [],
    createdAt,
    updatedAt: updatedAt ?? createdAt,
  };
}

async function index(...items: JobListItem[]): Promise<void> {
  const jobs = durableProjectJobIndex(env.PROJECTS);
  for (const entry of items) await jobs.indexJob(entry);
}

async function list(projectId: string, query = "", projects = [projectId]): Promise<Response> {
  return call(new Request(api(`/v1/projects/${projectId}/jobs${query}`), { headers: { authorization: `Bearer ${await token(projects)}` } }));
}

describe("the listing follows the jobs", () => {
  it("shows an accepted upload at once, and its status as the job moves on, without the summary", async () => {
    const projectId = uniqueProject();
    const client = await testClient([projectId]);
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const queued = (await client.listJobs(projectId)).items;
    expect(queued).toMatchObject([{ jobId, status: "queued", file: { name: "test.ifc" } }]);
    expect(queued).toEqual([await client.getJob(jobId)]);
    expect(await runAttempt(jobId)).toBe(true);
    const [listed] = (await client.listJobs(projectId)).items;
    expect(listed).toMatchObject({ jobId, status: "succeeded", attempts: 1 });
    expect(listed).not.toHaveProperty("summary");
    const { summary: _summary, ...job } = await client.getJob(jobId);
    expect(listed).toEqual(job);
  });

  it("catches up through the job's alarm when the project object could not take a change", async () => {
    const projectId = uniqueProject();
    const client = await testClient([projectId]);
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    const before = Date.now();
    expect(await runAttempt(jobId, { listing: unreachableListing })).toBe(true);
    expect((await client.getJob(jobId)).status).toBe("succeeded");
    expect((await client.listJobs(projectId)).items).toMatchObject([{ jobId, status: "queued" }]);
    const alarm = await runInDurableObject(jobStub(jobId), (_object: JobObject, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + LISTING_RETRY_MS);
    expect(alarm).toBeLessThanOrEqual(Date.now() + LISTING_RETRY_MS);

    expect(await runAttempt(jobId, {})).toBe(true);
    expect((await client.listJobs(projectId)).items).toMatchObject([{ jobId, status: "succeeded" }]);
  });
});

describe("GET /v1/projects/{projectId}/jobs", () => {
  it("lists newest first and pages through every job with limit and nextCursor", async () => {
    const projectId = uniqueProject();
    await index(...[3, 1, 5, 2, 4].map((n) => item(projectId, n)));
    const seen: string[] = [];
    let cursor = "";
    const sizes: number[] = [];
    for (let page = 0; page < 5; page++) {
      const response = await list(projectId, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(response.status).toBe(200);
      const body = (await expectDocumented("get", LIST, response)) as { items: JobListItem[]; nextCursor: string | null };
      sizes.push(body.items.length);
      seen.push(...body.items.map((job) => job.file.name));
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(["model-5.ifc", "model-4.ifc", "model-3.ifc", "model-2.ifc", "model-1.ifc"]);
  });

  it("keeps a page stable when newer jobs arrive while paging", async () => {
    const projectId = uniqueProject();
    await index(item(projectId, 1), item(projectId, 2), item(projectId, 3));
    const client = await testClient([projectId]);
    const first = await client.listJobs(projectId, { limit: 2 });
    await index(item(projectId, 9));
    const second = await client.listJobs(projectId, { limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((job) => job.file.name)).toEqual(["model-1.ifc"]);
    expect(second.nextCursor).toBeNull();
  });

  it("filters by status", async () => {
    const projectId = uniqueProject();
    await index(item(projectId, 1, "succeeded"), item(projectId, 2, "failed"), item(projectId, 3, "succeeded"), item(projectId, 4));
    const client = await testClient([projectId]);
    const succeeded = await client.listJobs(projectId, { status: "succeeded" });
    expect(succeeded.items.map((job) => job.file.name)).toEqual(["model-3.ifc", "model-1.ifc"]);
    expect((await client.listJobs(projectId, { status: "failed" })).items).toHaveLength(1);
  });

  it("never lets an older view of a job replace a newer one", async () => {
    const projectId = uniqueProject();
    const later = new Date(Date.UTC(2026, 10, 30, 2)).toISOString();
    await index(item(projectId, 1, "succeeded", later), item(projectId, 1, "processing"));
    const { items } = await (await testClient([projectId])).listJobs(projectId);
    expect(items).toEqual([item(projectId, 1, "succeeded", later)]);
  });

  it("answers an empty page for a project without jobs", async () => {
    const projectId = uniqueProject();
    const response = await list(projectId);
    expect(await expectDocumented("get", LIST, response)).toEqual({ items: [], nextCursor: null });
  });

  it("refuses a limit above 100 and a cursor it did not hand out with 400 validation-failed", async () => {
    const projectId = uniqueProject();
    for (const query of ["?limit=101", "?limit=0", "?status=done", "?cursor=not-a-cursor", "?cursor=%2F%2F"]) {
      const response = await list(projectId, query);
      expect(response.status, query).toBe(400);
      expect(((await expectDocumented("get", LIST, response)) as { type: string }).type).toMatch(/validation-failed$/);
    }
  });

  it("shows another project's jobs to nobody but that project's tokens", async () => {
    const mine = uniqueProject();
    const theirs = uniqueProject();
    await index(item(theirs, 1));
    const forbidden = await list(theirs, "", [mine]);
    await expectProblem(forbidden.clone(), 403, "forbidden");
    await expectDocumented("get", LIST, forbidden);
    expect((await (await testClient([mine])).listJobs(mine)).items).toEqual([]);
    const error = await (await testClient([mine])).listJobs(theirs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).slug).toBe("forbidden");
  });

  it("needs a token", async () => {
    const response = await call(new Request(api(`/v1/projects/${uniqueProject()}/jobs`)));
    await expectProblem(response.clone(), 401, "unauthorized");
    await expectDocumented("get", LIST, response);
  });
});
