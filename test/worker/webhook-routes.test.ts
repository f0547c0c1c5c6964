import type { SettingValues } from "../../src/config";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../support/problem";
import { api, call, token, uniqueProject } from "../support/worker";

interface Extensions {
  reason?: string;
  errors?: { field: string; message: string }[];
}

async function webhook(method: string, projectId: string, body?: unknown, options: { token?: string | null; overrides?: SettingValues } = {}) {
  const headers = new Headers({ "content-type": "application/json" });
  const bearer = options.token === undefined ? await token([projectId]) : options.token;
  if (bearer !== null) headers.set("authorization", `Bearer ${bearer}`);
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return call(new Request(api(`/v1/projects/${projectId}/webhook`), init), options.overrides);
}

describe("PUT/GET/DELETE /v1/projects/{projectId}/webhook", () => {
  it("creates a subscription, shows the secret once, and never again", async () => {
    const projectId = uniqueProject();
    const put = await webhook("PUT", projectId, { url: "https://hooks.example.com/ifc" });
    expect(put.status).toBe(200);
    expect(put.headers.get("cache-control")).toBe("no-store");
    const created = (await put.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      projectId,
      url: "https://hooks.example.com/ifc",
      events: ["model.uploaded", "model.processed", "model.failed"],
      status: "active",
      secret: expect.stringMatching(/^whsec_/),
    });

    const get = await webhook("GET", projectId);
    expect(get.status).toBe(200);
    const shown = (await get.json()) as Record<string, unknown>;
    expect(shown).not.toHaveProperty("secret");
    expect(JSON.stringify(shown)).not.toContain(String(created.secret));
    expect(shown).toMatchObject({ url: "https://hooks.example.com/ifc", status: "active" });
  });

  it("replaces a subscription with a new secret and keeps its creation time", async () => {
    const projectId = uniqueProject();
    const first = (await (await webhook("PUT", projectId, { url: "https://a.example.com/" })).json()) as Record<string, string>;
    const second = (await (await webhook("PUT", projectId, { url: "https://b.example.com/", events: ["model.failed"] })).json()) as Record<string, string>;
    expect(second.secret).not.toBe(first.secret);
    expect(second.createdAt).toBe(first.createdAt);
    expect(second).toMatchObject({ url: "https://b.example.com/", events: ["model.failed"] });
  });

  it("deletes a subscription, then answers 404", async () => {
    const projectId = uniqueProject();
    await webhook("PUT", projectId, { url: "https://hooks.example.com/" });
    expect((await webhook("DELETE", projectId)).status).toBe(204);
    await expectProblem(await webhook("GET", projectId), 404, "not-found");
    await expectProblem(await webhook("DELETE", projectId), 404, "not-found");
  });

  it.each([
    ["no url", {}, "url"],
    ["an unknown event", { url: "https://hooks.example.com/", events: ["model.deleted"] }, "events.0"],
    ["no events", { url: "https://hooks.example.com/", events: [] }, "events"],
    ["a repeated event", { url: "https://hooks.example.com/", events: ["model.failed", "model.failed"] }, "events"],
    ["a url that is too long", { url: `https://hooks.example.com/${"a".repeat(2100)}` }, "url"],
  ])("rejects a body with %s as 400 problem+json", async (_name, body, field) => {
    const problem = await expectProblem<Extensions>(await webhook("PUT", uniqueProject(), body), 400, "validation-failed");
    expect(problem.errors?.map((e) => e.field)).toContain(field);
  });

  it("rejects a malformed JSON body and a bad project id as 400", async () => {
    expect((await webhook("PUT", uniqueProject(), "{not json")).status).toBe(400);
    await expectProblem(await webhook("GET", "bad.project", undefined, { token: await token(["*"]) }), 400, "validation-failed");
  });

  it.each([
    ["https://169.254.169.254/latest/meta-data/", /link-local/],
    ["https://[::ffff:169.254.169.254]/", /IPv4-mapped/],
    ["https://user:pw@hooks.example.com/", /credentials/],
    ["ftp://hooks.example.com/", /scheme ftp/],
    ["not a url", /valid absolute URL/],
  ])("rejects the webhook URL %s as 422 naming the reason", async (url, reason) => {
    const problem = await expectProblem<Extensions>(await webhook("PUT", uniqueProject(), { url }), 422, "webhook-url-rejected");
    expect(problem.reason).toMatch(reason);
    expect(problem.detail).toMatch(reason);
  });

  it("refuses private and plain-http receivers where private targets are not allowed", async () => {
    const overrides = { WEBHOOK_ALLOW_PRIVATE: "false" };
    const http = await expectProblem(await webhook("PUT", uniqueProject(), { url: "http://127.0.0.1:8080/" }, { overrides }), 422, "webhook-url-rejected");
    expect(http.reason).toMatch(/scheme http/);
    const loopback = await expectProblem(await webhook("PUT", uniqueProject(), { url: "https://127.0.0.1/" }, { overrides }), 422, "webhook-url-rejected");
    expect(loopback.reason).toMatch(/loopback/);
    const decimal = await expectProblem(await webhook("PUT", uniqueProject(), { url: "https://167772161/" }, { overrides }), 422, "webhook-url-rejected");
    expect(decimal.reason).toMatch(/10\.0\.0\.1 is a private/);
  });

  it("demands a token (401) and one for this project (403)", async () => {
    const projectId = uniqueProject();
    await expectProblem(await webhook("GET", projectId, undefined, { token: null }), 401, "unauthorized");
    await expectProblem(await webhook("PUT", projectId, { url: "https://hooks.example.com/" }, { token: null }), 401, "unauthorized");
    const other = await token(["someone-else"]);
    await expectProblem(await webhook("PUT", projectId, { url: "https://hooks.example.com/" }, { token: other }), 403, "forbidden");
    await expectProblem(await webhook("GET", projectId, undefined, { token: other }), 403, "forbidden");
    await expectProblem(await webhook("DELETE", projectId, undefined, { token: other }), 403, "forbidden");
  });
});
