import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { isolateBufferBudget } from "../../src/storage/buffer-budget";
import { expectProblem } from "../support/problem";
import { api, bearer, call, type ExpectedModel, expectedModels, fixture, getApi, REFERENCE_MODELS, sha256Hex, signedToken, token, uniqueProject, upload } from "../support/worker";

const r2 = { STORAGE_DRIVER: "r2" } as const;
let expected: ExpectedModel[];

interface Accepted {
  jobId: string;
  projectId: string;
  status: string;
  file: { name: string; size: number; sha256: string; schema: string };
  links: { self: string };
}


function multipartBody(name: string, bytes: Uint8Array, field = "file"): FormData {
  const form = new FormData();
  form.append("note", "uploaded by the test suite");
  form.append(field, new File([bytes], name, { type: "application/octet-stream" }));
  return form;
}

async function storedKeys(projectId: string): Promise<string[]> {
  const listed = await env.MODELS?.list({ prefix: `projects/${projectId}/` });
  return listed?.objects.map((o) => o.key) ?? [];
}

beforeAll(async () => {
  expected = await expectedModels();
});

describe("POST /v1/projects/{projectId}/models", () => {
  const goodFixtures = [
    ...REFERENCE_MODELS,
    "malformed/cyclic-placement.ifc",
    "malformed/invalid-index.ifc",
  ];

  for (const path of goodFixtures) {
    for (const mode of ["raw", "multipart"] as const) {
      it(`accepts ${path} sent ${mode} and stores it byte for byte`, async () => {
        const bytes = await fixture(path);
        const projectId = uniqueProject();
        const name = path.split("/").pop() ?? path;
        const response =
          mode === "raw"
            ? await upload(projectId, bytes, { filename: name, overrides: r2 })
            : await upload(projectId, multipartBody(name, bytes), { overrides: r2 });
        expect(response.status).toBe(202);
        const body = (await response.json()) as Accepted;
        const schema = expected.find((model) => model.file === path)?.schema ?? "IFC4";
        expect(body).toMatchObject({
          projectId,
          status: "queued",
          file: { name, size: bytes.byteLength, sha256: await sha256Hex(bytes), schema },
          links: { self: `/v1/jobs/${body.jobId}` },
        });
        expect(response.headers.get("location")).toBe(`/v1/jobs/${body.jobId}`);
        const stored = await env.MODELS?.get(`projects/${projectId}/models/${body.jobId}/${name}`);
        expect(stored).toBeTruthy();
        const storedBytes = new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0));
        expect(storedBytes.byteLength).toBe(bytes.byteLength);
        expect(await sha256Hex(storedBytes)).toBe(await sha256Hex(bytes));
      });
    }
  }

  it("covers every model listed in expected.jsonl", () => {
    expect(expected.map((model) => model.file).sort()).toEqual([...REFERENCE_MODELS].sort());
  });

  it("stores into the memory driver too", async () => {
    const bytes = await fixture("test.ifc");
    const response = await upload(uniqueProject(), bytes, { filename: "test.ifc" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    expect(body.file.sha256).toBe(await sha256Hex(bytes));
  });

  const rejected: [string, () => Promise<Uint8Array>, number, string][] = [
    ["an unterminated comment", () => fixture("malformed/unterminated-comment.ifc"), 415, "not-ifc"],
    ["an unterminated string", () => fixture("malformed/unterminated-string.ifc"), 415, "not-ifc"],
    ["an empty body", async () => new Uint8Array(0), 415, "not-ifc"],
    [
      "a PNG image",
      async () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...new Uint8Array(200)]),
      415,
      "not-ifc",
    ],
    [
      "a STEP file of schema CONFIG_CONTROL_DESIGN",
      async () =>
        new TextEncoder().encode(
          "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('AP203'),'2;1');\nFILE_NAME('part.stp','2020-01-01T00:00:00',(''),(''),'','','');\nFILE_SCHEMA(('CONFIG_CONTROL_DESIGN'));\nENDSEC;\nDATA;\n#1=PRODUCT('A','B','',(#2));\nENDSEC;\nEND-ISO-10303-21;\n",
        ),
      422,
      "unsupported-schema",
    ],
    [
      "a STEP header without FILE_SCHEMA",
      async () => new TextEncoder().encode("ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nENDSEC;\nDATA;\nENDSEC;\n"),
      422,
      "invalid-step-header",
    ],
  ];

  for (const [what, bytes, status, slug] of rejected) {
    for (const mode of ["raw", "multipart"] as const) {
      it(`rejects ${what} sent ${mode} with ${status} and keeps nothing`, async () => {
        const projectId = uniqueProject();
        const body = await bytes();
        const response =
          mode === "raw"
            ? await upload(projectId, body, { filename: "x.ifc", overrides: r2 })
            : await upload(projectId, multipartBody("x.ifc", body), { overrides: r2 });
        await expectProblem(response, status, slug);
        expect(await storedKeys(projectId)).toEqual([]);
      });
    }
  }

  it("answers 503 upload-capacity with Retry-After when the isolate's upload buffers are all in use", async () => {
    const projectId = uniqueProject();
    // A budget of its own (each size is one budget per isolate), held as other uploads would.
    // One part and one upload's blocks and scan buffer (the smallest budget allowed).
    const bytes = String(11 * 1024 * 1024 + 4096);
    const overrides = { ...r2, UPLOAD_BUFFER_BYTES: bytes };
    const budget = isolateBufferBudget(Number(bytes));
    const model = await fixture("test.ifc");
    expect(budget.tryTake(budget.totalBytes - 1024 * 1024)).toBe(true);
    try {
      // Less than a part is free: a small file still fits, bounded by the request's length
      // (sent with a Content-Length, as browsers and curl -F send forms).
      const form = new Response(multipartBody("small.ifc", model));
      const sized = new Uint8Array(await form.arrayBuffer());
      const headers = { "content-type": form.headers.get("content-type") ?? "" };
      expect((await upload(projectId, sized, { headers, overrides })).status).toBe(202);
      expect(budget.tryTake(1024 * 1024)).toBe(true);
      const response = await upload(projectId, multipartBody("m.ifc", model), { overrides });
      const problem = await expectProblem(response, 503, "upload-capacity");
      expect(response.headers.get("retry-after")).toBe("2");
      expect(problem.detail).toContain("retry");
      expect((await storedKeys(projectId)).filter((key) => key.endsWith("/m.ifc"))).toEqual([]);
    } finally {
      budget.give(budget.totalBytes);
    }
    expect((await upload(projectId, multipartBody("m.ifc", model), { overrides })).status).toBe(202);
  });

  it("rejects a body over MAX_UPLOAD_BYTES with 413 before reading it when the length is declared", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("example.ifc");
    const response = await upload(projectId, bytes, { filename: "big.ifc", overrides: { ...r2, MAX_UPLOAD_BYTES: "100000" } });
    const problem = await expectProblem(response, 413, "payload-too-large");
    expect(problem.detail).toContain("100000");
    expect(await storedKeys(projectId)).toEqual([]);
  });

  it("rejects a streamed body that grows past MAX_UPLOAD_BYTES and removes the partial object", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("duplex.ifc");
    const response = await upload(projectId, multipartBody("big.ifc", bytes), {
      overrides: { ...r2, MAX_UPLOAD_BYTES: String(1024 * 1024) },
    });
    await expectProblem(response, 413, "payload-too-large");
    expect(await storedKeys(projectId)).toEqual([]);
  });

  it("rejects a chunked raw body past the limit without a Content-Length", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("duplex.ifc");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.byteLength; at += 65536) controller.enqueue(bytes.slice(at, at + 65536));
        controller.close();
      },
    });
    const response = await upload(projectId, stream, { filename: "big.ifc", overrides: { ...r2, MAX_UPLOAD_BYTES: String(1024 * 1024) } });
    await expectProblem(response, 413, "payload-too-large");
    expect(await storedKeys(projectId)).toEqual([]);
  });

  it("sanitises a path-traversal file name into a single key segment", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, await fixture("test.ifc"), { filename: "../../../etc/pass\u0000wd.ifc", overrides: r2 });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    expect(body.file.name).toBe("passwd.ifc");
    expect(await storedKeys(projectId)).toEqual([`projects/${projectId}/models/${body.jobId}/passwd.ifc`]);
  });

  it("sanitises a traversal name given in the multipart filename", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, multipartBody("..\\..\\boot.ini", await fixture("test.ifc")), { overrides: r2 });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    expect(body.file.name).toBe("boot.ini");
  });

  it("rejects a project id outside [A-Za-z0-9_-]{1,64} with the failing field", async () => {
    const response = await upload("bad.project", await fixture("test.ifc"), { token: await token(["*"]) });
    const problem = await expectProblem(response, 400, "validation-failed");
    expect(problem.detail).toContain("projectId");
  });

  it("answers 401 without a token", async () => {
    const response = await call(
      new Request(api("/v1/projects/demo/models"), { method: "POST", body: await fixture("test.ifc") }),
    );
    const problem = await expectProblem(response, 401, "unauthorized");
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    expect(problem.detail).toContain("Authorization");
  });

  it("answers 401 for an expired token", async () => {
    const response = await upload("demo", await fixture("test.ifc"), { token: await token(["demo"], { expiresIn: -60 }) });
    const problem = await expectProblem(response, 401, "unauthorized");
    expect(problem.detail).toContain("expired");
  });

  it("answers 401 for a token signed with another secret", async () => {
    const response = await upload("demo", await fixture("test.ifc"), {
      token: await token(["demo"], { secret: "another-secret-another-secret-another" }),
    });
    await expectProblem(response, 401, "unauthorized");
  });

  const inAMinute = () => Math.floor(Date.now() / 1000) + 60;
  it.each([
    ["the projects claim", () => ({ sub: "x", exp: inAMinute() })],
    ["any project", () => ({ sub: "x", projects: [], exp: inAMinute() })],
    ["the sub claim", () => ({ projects: ["demo"], exp: inAMinute() })],
    ["an expiry", () => ({ sub: "x", projects: ["demo"] })],
  ])("answers 401 for a token without %s", async (_missing, claims) => {
    const response = await upload("demo", await fixture("test.ifc"), { token: await signedToken(claims()) });
    expect((await expectProblem(response, 401, "unauthorized")).detail).toBe("The token lacks the sub, projects or exp claim.");
  });

  it("answers 403 for an upload into a project the token does not grant", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, await fixture("test.ifc"), { token: await token(["someone-else"]), overrides: r2 });
    await expectProblem(response, 403, "forbidden");
    expect(await storedKeys(projectId)).toEqual([]);
  });

  it("replays the first reply for a repeated Idempotency-Key without storing twice", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("IfcOpenHouse_IFC4.ifc");
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const first = await upload(projectId, bytes, { filename: "house.ifc", headers, overrides: r2 });
    expect(first.status).toBe(202);
    const second = await upload(projectId, bytes, { filename: "house.ifc", headers, overrides: r2 });
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    expect(await storedKeys(projectId)).toHaveLength(1);
  });

  it("keeps the same Idempotency-Key of two projects apart", async () => {
    const [mine, theirs] = [uniqueProject(), uniqueProject()];
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const first = await upload(mine, await fixture("test.ifc"), { filename: "mine.ifc", headers, overrides: r2 });
    expect(first.status).toBe(202);
    const other = await upload(theirs, await fixture("IfcOpenHouse_IFC4.ifc"), { filename: "theirs.ifc", headers, overrides: r2 });
    expect(other.status).toBe(202);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    const [a, b] = [(await first.json()) as Accepted, (await other.json()) as Accepted];
    expect(b.jobId).not.toBe(a.jobId);
    expect(b).toMatchObject({ projectId: theirs, file: { name: "theirs.ifc" } });
    expect(await storedKeys(theirs)).toEqual([`projects/${theirs}/models/${b.jobId}/theirs.ifc`]);
  });

  it("answers 409 with Retry-After to a second upload with an Idempotency-Key while the first is still arriving", async () => {
    const projectId = uniqueProject();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const bytes = await fixture("test.ifc");
    let reading: () => void = () => undefined;
    const firstRead = new Promise<void>((resolve) => (reading = resolve));
    let finish: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (finish = resolve));
    // The first body gives its first half when first read, then holds the rest back.
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          pulls += 1;
          if (pulls === 1) {
            controller.enqueue(bytes.slice(0, 1000));
            reading();
            return;
          }
          await held;
          controller.enqueue(bytes.slice(1000));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const first = upload(projectId, body, { filename: "test.ifc", headers, overrides: r2 });
    await firstRead;
    const second = await upload(projectId, bytes, { filename: "test.ifc", headers, overrides: r2 });
    await expectProblem(second, 409, "idempotency-conflict");
    expect(second.headers.get("retry-after")).toBe("5");
    finish();
    expect((await first).status).toBe(202);
    const replay = await upload(projectId, bytes, { filename: "test.ifc", headers, overrides: r2 });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });

  it("lets a client retry an Idempotency-Key whose first upload was rejected", async () => {
    const projectId = uniqueProject();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    await expectProblem(await upload(projectId, new Uint8Array([1, 2, 3]), { headers }), 415, "not-ifc");
    expect((await upload(projectId, await fixture("test.ifc"), { headers })).status).toBe(202);
  });

  it("answers 400 for a multipart body without a file field", async () => {
    const response = await upload(uniqueProject(), multipartBody("x.ifc", await fixture("test.ifc"), "document"));
    const problem = await expectProblem(response, 400, "invalid-multipart");
    expect(problem.detail).toContain('"file"');
  });

  it("answers 400 for multipart/form-data without a boundary", async () => {
    const response = await upload(uniqueProject(), await fixture("test.ifc"), { headers: { "content-type": "multipart/form-data" } });
    await expectProblem(response, 400, "invalid-multipart");
  });

  it("answers 400 for a truncated multipart body", async () => {
    const body = new TextEncoder().encode('--XyZ\r\ncontent-disposition: form-data; name="file"; filename="a.ifc"\r\n\r\nISO-10303-21;\nHEADER;');
    const response = await upload(uniqueProject(), body, { headers: { "content-type": "multipart/form-data; boundary=XyZ" } });
    await expectProblem(response, 400, "invalid-multipart");
  });

  it("answers 415 for other multipart types", async () => {
    const response = await upload(uniqueProject(), "x", { headers: { "content-type": "multipart/mixed; boundary=a" } });
    await expectProblem(response, 415, "unsupported-content-type");
  });

  it("fails with one message naming every bad setting (to an operator)", async () => {
    const response = await upload("demo", await fixture("test.ifc"), {
      token: await token(["*"], { secret: "short" }),
      overrides: { ENVIRONMENT: "staging", AUTH_JWT_SECRET: "short", MAX_UPLOAD_BYTES: "-1" },
    });
    const problem = await expectProblem(response, 500, "misconfigured");
    expect(problem.detail).toContain("ENVIRONMENT");
    expect(problem.detail).toContain("AUTH_JWT_SECRET");
    expect(problem.detail).toContain("MAX_UPLOAD_BYTES");
  });

  it("keeps a sane caller-supplied x-request-id and replaces an unsafe one", async () => {
    const kept = await upload("demo", new Uint8Array(0), { headers: { "x-request-id": "trace-123" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-123");
    const replaced = await upload("demo", new Uint8Array(0), { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(replaced.headers.get("x-request-id")).not.toContain(" ");
  });
});

describe("GET /v1/jobs/{jobId}", () => {
  it("returns the queued job record", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("test.ifc");
    const accepted = (await (await upload(projectId, bytes, { filename: "test.ifc" })).json()) as Accepted;
    const response = await call(
      new Request(api(accepted.links.self), { headers: await bearer([projectId]) }),
    );
    expect(response.status).toBe(200);
    const job = (await response.json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      jobId: accepted.jobId,
      projectId,
      status: "queued",
      file: accepted.file,
      attempts: 0,
      // No webhook subscribed and no SQS queue configured: the webhook channel waits for its alarm.
      notifications: [{ channel: "webhook", event: "model.uploaded", status: "pending", attempts: 0, nextAttemptAt: expect.any(String) }],
    });
    expect(job.createdAt).toEqual(job.updatedAt);
    expect(job).not.toHaveProperty("objectKey");
  });

  it("answers 404 for another project's job, exactly as for a missing one", async () => {
    const projectId = uniqueProject();
    const accepted = (await (await upload(projectId, await fixture("test.ifc"), { filename: "t.ifc" })).json()) as Accepted;
    const other = await getApi(accepted.links.self, ["other"]);
    await expectProblem(other, 404, "not-found");
    const missing = await call(
      new Request(api(`/v1/jobs/${crypto.randomUUID()}`), { headers: await bearer(["*"]) }),
    );
    await expectProblem(missing, 404, "not-found");
  });

  it("answers 400 for a malformed job id and 401 without a token", async () => {
    await expectProblem(
      await getApi("/v1/jobs/not-a-uuid"),
      400,
      "validation-failed",
    );
    await expectProblem(await call(new Request(api(`/v1/jobs/${crypto.randomUUID()}`))), 401, "unauthorized");
  });

  it("answers 404 problem+json for unknown routes", async () => {
    await expectProblem(await call(new Request(api("/nope"))), 404, "not-found");
  });
});
