import { describe, expect, it } from "vitest";
import { expectDocumented } from "../support/documented";
import { accepted, runAttempt } from "../support/processing";
import { api, call, fixture, token, uniqueProject, upload } from "../support/worker";

/** Every route's real replies, happy and not, parse under the schemas /openapi.json is made from. */

const MODELS = "/v1/projects/{projectId}/models";
const JOB = "/v1/jobs/{jobId}";
const SUMMARY = "/v1/jobs/{jobId}/summary";
const WEBHOOK = "/v1/projects/{projectId}/webhook";

async function get(path: string, projects: string[] | null): Promise<Response> {
  const headers: Record<string, string> = projects ? { authorization: `Bearer ${await token(projects)}` } : {};
  return call(new Request(api(path), { headers }));
}

async function statusOf(method: "get" | "post" | "put" | "delete", template: string, response: Response): Promise<number> {
  await expectDocumented(method, template, response);
  return response.status;
}

describe("documented replies", () => {
  it("POST models: 202, and its problems 400, 401, 403, 413, 415 and 422", async () => {
    const projectId = uniqueProject();
    const model = await fixture("test.ifc");
    const statuses = [
      await statusOf("post", MODELS, await upload(projectId, model, { filename: "test.ifc" })),
      await statusOf("post", MODELS, await upload("bad id!", model)),
      await statusOf("post", MODELS, await call(new Request(api(`/v1/projects/${projectId}/models`), { method: "POST", body: model }))),
      await statusOf("post", MODELS, await upload(projectId, model, { token: await token(["other"]) })),
      await statusOf("post", MODELS, await upload(projectId, new Uint8Array(9 * 2 ** 20).fill(32))),
      await statusOf("post", MODELS, await upload(projectId, new TextEncoder().encode("PK\u0003\u0004 a zip file, not a model"))),
      await statusOf("post", MODELS, await upload(projectId, new TextEncoder().encode("ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC9'));\nENDSEC;\n"))),
    ];
    expect(statuses).toEqual([202, 400, 401, 403, 413, 415, 422]);
  });

  it("GET job and summary: 200 before and after processing, 409 until the summary is ready, 404 for another project", async () => {
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, await fixture("test.ifc"), "test.ifc");
    expect(await statusOf("get", JOB, await get(`/v1/jobs/${jobId}`, [projectId]))).toBe(200);
    expect(await statusOf("get", SUMMARY, await get(`/v1/jobs/${jobId}/summary`, [projectId]))).toBe(409);
    expect(await runAttempt(jobId)).toBe(true);
    const job = (await expectDocumented("get", JOB, await get(`/v1/jobs/${jobId}`, [projectId]))) as { status: string; summary?: unknown };
    expect(job.status).toBe("succeeded");
    expect(job.summary).toBeDefined();
    expect(await statusOf("get", SUMMARY, await get(`/v1/jobs/${jobId}/summary`, [projectId]))).toBe(200);
    expect(await statusOf("get", JOB, await get(`/v1/jobs/${jobId}`, ["other"]))).toBe(404);
    expect(await statusOf("get", JOB, await get("/v1/jobs/not-a-uuid", [projectId]))).toBe(400);
  });

  it("webhook: PUT 200 and 422, GET 200 and 404, DELETE 204 and 404, 415 for a body that is not JSON", async () => {
    const projectId = uniqueProject();
    const bearer = { authorization: `Bearer ${await token([projectId])}` };
    const send = (method: string, body?: string, contentType = "application/json") =>
      call(new Request(api(`/v1/projects/${projectId}/webhook`), { method, headers: { ...bearer, "content-type": contentType }, ...(body === undefined ? {} : { body }) }));
    const statuses = [
      await statusOf("get", WEBHOOK, await send("GET")),
      await statusOf("put", WEBHOOK, await send("PUT", JSON.stringify({ url: "https://hooks.example.com/ifc" }))),
      await statusOf("put", WEBHOOK, await send("PUT", JSON.stringify({ url: "ftp://hooks.example.com/ifc" }))),
      await statusOf("put", WEBHOOK, await send("PUT", "url=https://hooks.example.com", "application/x-www-form-urlencoded")),
      await statusOf("put", WEBHOOK, await send("PUT", "{not json")),
      await statusOf("get", WEBHOOK, await send("GET")),
      await statusOf("delete", WEBHOOK, await send("DELETE")),
      await statusOf("delete", WEBHOOK, await send("DELETE")),
    ];
    expect(statuses).toEqual([404, 200, 422, 415, 400, 200, 204, 404]);
  });

  it("health and operations: liveness, readiness and circuits, 403 for a project token", async () => {
    expect(await statusOf("get", "/healthz", await get("/healthz", null))).toBe(200);
    expect(await statusOf("get", "/readyz", await get("/readyz", ["*"]))).toBe(200);
    expect(await statusOf("get", "/readyz", await get("/readyz", null))).toBe(401);
    expect(await statusOf("get", "/v1/ops/circuits", await get("/v1/ops/circuits", ["*"]))).toBe(200);
    expect(await statusOf("get", "/v1/ops/circuits", await get("/v1/ops/circuits", ["demo"]))).toBe(403);
  });
});
