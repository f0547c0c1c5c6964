import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../support/problem";
import type { AcceptedUpload } from "../../src/jobs/record";
import { isolateMemoryStorage } from "../../src/storage/memory";
import { StorageError } from "../../src/storage/object-storage";
import { UploadSessionObject } from "../../src/uploads/session-object";
import type { SessionListing } from "../../src/uploads/session-record";
import { getJob, runAttempt } from "../support/processing";
import { api, call, sha256Hex, uniqueProject } from "../support/worker";
import {
  MiB,
  caller,
  createSession,
  expire,
  getSession,
  putPart,
  send,
  sessionObject,
  sessionsPath,
  stepModel,
} from "../support/upload-sessions";

const SIZE = 2 * 8 * MiB + MiB + 123;

async function uploadAll(who: Awaited<ReturnType<typeof caller>>, bytes: Uint8Array, filename = "tower.ifc", sha256?: string) {
  const session = await createSession(who, { filename, size: bytes.byteLength, ...(sha256 ? { sha256 } : {}) });
  const etags: { partNumber: number; etag: string }[] = [];
  for (let n = 1; n <= session.partCount; n++) {
    const response = await putPart(who, session, bytes, n);
    expect(response.status, await response.clone().text()).toBe(200);
    const part = (await response.json()) as { partNumber: number; size: number; etag: string };
    expect(response.headers.get("etag")).toBe(part.etag);
    etags.push({ partNumber: part.partNumber, etag: part.etag });
  }
  return { session, etags };
}

describe("upload sessions (memory storage)", () => {
  it("creates a session with the service's part size and a 24 h expiry", async () => {
    const who = await caller(uniqueProject());
    const before = Date.now();
    const response = await send(who, "POST", sessionsPath(who.projectId), { json: { filename: "tower.ifc", size: SIZE } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown> & { uploadId: string; expiresAt: string };
    expect(body).toMatchObject({ projectId: who.projectId, filename: "tower.ifc", size: SIZE, partSize: 8 * MiB, partCount: 3 });
    expect(response.headers.get("location")).toBe(`/v1/projects/${who.projectId}/uploads/${body.uploadId}`);
    expect(Date.parse(body.expiresAt) - before).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 1000);
  });

  it("takes parts through the service, lists them for a resume and completes into a job", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE, "IFC4", 250);
    const session = await createSession(who, { filename: "tower.ifc", size: SIZE });
    const target = await send(who, "GET", `${session.links.self}/parts/1`);
    expect(await target.json()).toMatchObject({ method: "PUT", url: `http://ingest.test${session.links.self}/parts/1`, headers: { authorization: who.auth } });

    // Parts 1 and 3 arrive; the client crashes, lists the session and sends what is missing.
    expect((await putPart(who, session, bytes, 1)).status).toBe(200);
    expect((await putPart(who, session, bytes, 3)).status).toBe(200);
    const listed = await getSession(who, session);
    expect(listed).toMatchObject({ status: "open", partCount: 3, parts: [{ partNumber: 1, size: 8 * MiB }, { partNumber: 3, size: MiB + 123 }] });
    expect((await putPart(who, session, bytes, 2)).status).toBe(200);
    const parts = (await getSession(who, session)).parts.map(({ partNumber, etag }) => ({ partNumber, etag }));

    const completed = await send(who, "POST", `${session.links.self}/complete`, { json: { parts } });
    expect(completed.status, await completed.clone().text()).toBe(202);
    const reply = (await completed.json()) as AcceptedUpload;
    expect(reply).toMatchObject({
      projectId: who.projectId,
      status: "queued",
      file: { name: "tower.ifc", size: SIZE, sha256: null, schema: "IFC4" },
      links: { self: `/v1/jobs/${reply.jobId}` },
      upload: { uploadId: session.uploadId },
    });
    expect(completed.headers.get("location")).toBe(reply.links.self);
    const stored = await isolateMemoryStorage.get(`projects/${who.projectId}/models/${reply.jobId}/tower.ifc`);
    expect(stored?.size).toBe(SIZE);

    // Completing again answers the same job.
    const again = await send(who, "POST", `${session.links.self}/complete`, { json: { parts } });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(reply);
    expect(await getSession(who, session)).toMatchObject({ status: "completed", jobId: reply.jobId, parts: [{ partNumber: 1 }, { partNumber: 2 }, { partNumber: 3 }] });

    // Processing hashes the stored model and summarises it.
    expect(await runAttempt(reply.jobId)).toBe(true);
    const job = (await getJob(who.projectId, reply.jobId)).body;
    expect(job).toMatchObject({ status: "succeeded", file: { sha256: await sha256Hex(bytes) }, summary: { schema: "IFC4", entityCount: 250 } });
    expect(isolateMemoryStorage.multipart.pending()).not.toContain(listed.uploadId);
  });

  it("fails the job with checksum_mismatch when the declared SHA-256 differs", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    const declared = "ab".repeat(32);
    const { session, etags } = await uploadAll(who, bytes, "tower.ifc", declared);
    const completed = await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } });
    const reply = (await completed.json()) as AcceptedUpload;
    await runAttempt(reply.jobId);
    const job = (await getJob(who.projectId, reply.jobId)).body;
    expect(job).toMatchObject({ status: "failed", error: { code: "checksum_mismatch" } });
  });

  it("accepts a declared SHA-256 that matches", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    const digest = await sha256Hex(bytes);
    const { session, etags } = await uploadAll(who, bytes, "tower.ifc", digest.toUpperCase());
    const reply = (await (await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } })).json()) as AcceptedUpload;
    await runAttempt(reply.jobId);
    expect((await getJob(who.projectId, reply.jobId)).body).toMatchObject({ status: "succeeded", file: { sha256: digest } });
  });

  it("stores parts in R2 through the binding and completes there", async () => {
    const who = await caller(uniqueProject(), { STORAGE_DRIVER: "r2" });
    const bytes = stepModel(SIZE);
    const { session, etags } = await uploadAll(who, bytes);
    expect((await getSession(who, session)).parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const completed = await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } });
    expect(completed.status, await completed.clone().text()).toBe(202);
    const reply = (await completed.json()) as AcceptedUpload;
    const object = await env.MODELS?.get(`projects/${who.projectId}/models/${reply.jobId}/tower.ifc`);
    expect(await sha256Hex(new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0)))).toBe(await sha256Hex(bytes));
  });

  it("replays a create under the same Idempotency-Key and refuses another file under it", async () => {
    const who = await caller(uniqueProject());
    const first = await createSession(who, { filename: "a.ifc", size: SIZE }, { "idempotency-key": "k-1" });
    const replay = await send(who, "POST", sessionsPath(who.projectId), { json: { filename: "a.ifc", size: SIZE }, headers: { "idempotency-key": "k-1" } });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as { uploadId: string }).uploadId).toBe(first.uploadId);
    const other = await send(who, "POST", sessionsPath(who.projectId), { json: { filename: "a.ifc", size: SIZE + 1 }, headers: { "idempotency-key": "k-1" } });
    await expectProblem(other, 422, "idempotency-key-mismatch");
  });

  it("lists the project's sessions newest first, page by page", async () => {
    const who = await caller(uniqueProject());
    const made = [];
    for (const name of ["one.ifc", "two.ifc", "three.ifc"]) made.push(await createSession(who, { filename: name, size: 9 * MiB }));
    await send(who, "DELETE", made[0]?.links.self ?? "");
    const first = (await (await send(who, "GET", `${sessionsPath(who.projectId)}?limit=2`)).json()) as { uploads: SessionListing[]; nextCursor?: string };
    expect(first.uploads.map((u) => u.filename)).toEqual(["three.ifc", "two.ifc"]);
    expect(first.nextCursor).toBeTruthy();
    const second = (await (await send(who, "GET", `${sessionsPath(who.projectId)}?limit=2&cursor=${first.nextCursor}`)).json()) as {
      uploads: SessionListing[];
      nextCursor?: string;
    };
    expect(second.uploads).toMatchObject([{ filename: "one.ifc", status: "aborted" }]);
    expect(second.nextCursor).toBeUndefined();
    const other = await caller(uniqueProject());
    expect(((await (await send(other, "GET", sessionsPath(other.projectId))).json()) as { uploads: unknown[] }).uploads).toEqual([]);
    await expectProblem(await send(who, "GET", `${sessionsPath(who.projectId)}?cursor=not-ours!`), 400, "validation-failed");
    await expectProblem(await send(who, "GET", `${sessionsPath(who.projectId)}?limit=0`), 400, "validation-failed");
  });
});

describe("upload sessions: completions cut off", () => {
  for (const driver of ["memory", "r2"] as const) {
    it(`finishes the job when the store joined the parts but the completion never recorded it (${driver})`, async () => {
      const who = await caller(uniqueProject(), driver === "r2" ? { STORAGE_DRIVER: "r2" } : {});
      const bytes = stepModel(SIZE);
      const { session, etags } = await uploadAll(who, bytes);
      const held = await sessionObject(session.uploadId).get();
      const objectKey = held?.session.objectKey ?? "";
      const storageUploadId = held?.session.storageUploadId ?? "";
      // The earlier completion got as far as the store's own completion, then its isolate died.
      if (driver === "r2") await env.MODELS?.resumeMultipartUpload(objectKey, storageUploadId).complete(etags);
      else await isolateMemoryStorage.multipart.complete(objectKey, storageUploadId, etags);
      const completed = await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } });
      expect(completed.status, await completed.clone().text()).toBe(202);
      expect(((await completed.json()) as AcceptedUpload).jobId).toBe(objectKey.split("/")[3]);
    });
  }

  it("closes the session with 409 when the store lost the upload and holds no object", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    const { session, etags } = await uploadAll(who, bytes);
    const held = await sessionObject(session.uploadId).get();
    await isolateMemoryStorage.multipart.abort(held?.session.objectKey ?? "", held?.session.storageUploadId ?? "");
    await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } }), 409, "upload-closed");
    expect((await getSession(who, session)).status).toBe("aborted");
  });
});

describe("upload sessions: bad input", () => {
  it("refuses a size above MAX_UPLOAD_BYTES with 413 and a bad body with 400", async () => {
    const who = await caller(uniqueProject());
    await expectProblem(await send(who, "POST", sessionsPath(who.projectId), { json: { filename: "big.ifc", size: 65 * MiB } }), 413, "payload-too-large");
    const bad = await expectProblem(await send(who, "POST", sessionsPath(who.projectId), { json: { filename: "", size: -1, sha256: "xyz" } }), 400, "validation-failed");
    expect((bad.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(["filename", "sha256", "size"]);
  });

  it("refuses parts of the wrong size, out of range, or without a length", async () => {
    const who = await caller(uniqueProject());
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    const path = `${session.links.self}/parts`;
    const short = await expectProblem(await send(who, "PUT", `${path}/1`, { body: new Uint8Array(MiB) }), 400, "invalid-part");
    expect(short.expectedSize).toBe(8 * MiB);
    await expectProblem(await send(who, "PUT", `${path}/3`, { body: new Uint8Array(MiB) }), 400, "invalid-part");
    await expectProblem(await send(who, "PUT", `${path}/4`, { body: new Uint8Array(10) }), 400, "invalid-part");
    await expectProblem(await send(who, "GET", `${path}/4`), 400, "invalid-part");
    await expectProblem(await send(who, "GET", `${path}/0`), 400, "validation-failed");
    await expectProblem(await send(who, "PUT", `${path}/1.5`, { body: new Uint8Array(10) }), 400, "validation-failed");
    await expectProblem(await send(who, "PUT", `${path}/3`), 411, "length-required");
  });

  it("refuses a completion with missing parts or wrong ETags, naming them", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    const one = (await (await putPart(who, session, bytes, 1)).json()) as { etag: string };
    const missing = await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: [{ partNumber: 1, etag: one.etag }] } }), 400, "upload-incomplete");
    expect(missing.missingParts).toEqual([2, 3]);
    const two = (await (await putPart(who, session, bytes, 2)).json()) as { etag: string };
    const three = (await (await putPart(who, session, bytes, 3)).json()) as { etag: string };
    const wrong = [
      { partNumber: 1, etag: one.etag },
      { partNumber: 2, etag: '"0000"' },
      { partNumber: 3, etag: three.etag },
    ];
    const mismatch = await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: wrong } }), 400, "part-mismatch");
    expect(mismatch.mismatchedParts).toEqual([2]);
    // The session stays open: the right list completes it.
    const right = [{ partNumber: 1, etag: one.etag }, { partNumber: 2, etag: two.etag }, { partNumber: 3, etag: three.etag }];
    expect((await send(who, "POST", `${session.links.self}/complete`, { json: { parts: right } })).status).toBe(202);
  });

  it("refuses a model that is not IFC as a direct upload does, deleting it and closing the session", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    bytes.set(new TextEncoder().encode("\x89PNG\r\n\x1a\n"), 0);
    const { session, etags } = await uploadAll(who, bytes, "picture.ifc");
    const refused = await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } }), 415, "not-ifc");
    expect(refused.detail).toContain("ISO-10303-21");
    expect(isolateMemoryStorage.keys().filter((key) => key.startsWith(`projects/${who.projectId}/`))).toEqual([]);
    expect((await getSession(who, session)).status).toBe("aborted");
    await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } }), 409, "upload-closed");
  });

  it("refuses an unsupported schema with 422", async () => {
    const who = await caller(uniqueProject());
    const { session, etags } = await uploadAll(who, stepModel(SIZE, "CONFIG_CONTROL_DESIGN"));
    const refused = await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: etags } }), 422, "unsupported-schema");
    expect(refused.schema).toBe("CONFIG_CONTROL_DESIGN");
  });

  it("aborts a deleted session's storage upload and answers 409 to its parts and completion", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    expect((await putPart(who, session, bytes, 1)).status).toBe(200);
    const pendingBefore = isolateMemoryStorage.multipart.pending().length;
    expect((await send(who, "DELETE", session.links.self)).status).toBe(204);
    expect(isolateMemoryStorage.multipart.pending().length).toBe(pendingBefore - 1);
    expect((await send(who, "DELETE", session.links.self)).status).toBe(204);
    const closed = await expectProblem(await send(who, "PUT", `${session.links.self}/parts/2`, { body: bytes.subarray(8 * MiB, 16 * MiB) }), 409, "upload-closed");
    expect(closed.uploadStatus).toBe("aborted");
    await expectProblem(await send(who, "GET", `${session.links.self}/parts/2`), 409, "upload-closed");
    await expectProblem(await send(who, "POST", `${session.links.self}/complete`, { json: { parts: [] } }), 409, "upload-closed");
    expect(await getSession(who, session)).toMatchObject({ status: "aborted" });
  });

  it("expires a session at its TTL: the alarm aborts the storage upload", async () => {
    const who = await caller(uniqueProject());
    const bytes = stepModel(SIZE);
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    expect((await putPart(who, session, bytes, 1)).status).toBe(200);
    const pendingBefore = isolateMemoryStorage.multipart.pending().length;
    expect(await expire(session.uploadId)).toBe(true);
    expect(isolateMemoryStorage.multipart.pending().length).toBe(pendingBefore - 1);
    expect(await getSession(who, session)).toMatchObject({ status: "expired" });
    const closed = await expectProblem(await send(who, "PUT", `${session.links.self}/parts/2`, { body: bytes.subarray(8 * MiB, 16 * MiB) }), 409, "upload-closed");
    expect(closed.uploadStatus).toBe("expired");
    await expectProblem(await send(who, "DELETE", session.links.self), 409, "upload-closed");
    const listing = (await (await send(who, "GET", sessionsPath(who.projectId))).json()) as { uploads: SessionListing[] };
    expect(listing.uploads).toMatchObject([{ uploadId: session.uploadId, status: "expired" }]);
  });

  it("answers 404 for another project's session and 403 for a project the token does not grant", async () => {
    const owner = await caller(uniqueProject());
    const session = await createSession(owner, { filename: "t.ifc", size: SIZE });
    const otherProject = uniqueProject();
    const intruder = await caller(otherProject, {}, [otherProject, "x"]);
    const foreign = `/v1/projects/${otherProject}/uploads/${session.uploadId}`;
    for (const [method, path] of [
      ["GET", foreign],
      ["DELETE", foreign],
      ["GET", `${foreign}/parts/1`],
      ["POST", `${foreign}/complete`],
    ] as const) {
      const response = await send(intruder, method, path, method === "POST" ? { json: { parts: [] } } : {});
      await expectProblem(response, 404, "not-found");
    }
    await expectProblem(await send(intruder, "PUT", `${foreign}/parts/1`, { body: new Uint8Array(8 * MiB) }), 404, "not-found");
    await expectProblem(await send(intruder, "GET", session.links.self), 403, "forbidden");
    const anonymous = await call0(session.links.self);
    await expectProblem(anonymous, 401, "unauthorized");
    expect((await getSession(owner, session)).status).toBe("open");
  });
});

async function call0(path: string): Promise<Response> {
  return call(new Request(api(path)));
}

describe("upload session expiry when storage fails", () => {
  it("keeps retrying the abort from its alarm until storage answers", async () => {
    const who = await caller(uniqueProject());
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    const stub = sessionObject(session.uploadId);
    let failures = 1;
    await runInDurableObject(stub, (object: UploadSessionObject) =>
      UploadSessionObject.overrideForTests(object, {
        circuitScope: `t-${crypto.randomUUID()}/`,
        storage: (configured) => ({
          ...configured,
          multipart: {
            create: (key) => isolateMemoryStorage.multipart.create(key),
            uploadPart: (key, id, n, body, size) => isolateMemoryStorage.multipart.uploadPart(key, id, n, body, size),
            listParts: (key, id) => isolateMemoryStorage.multipart.listParts(key, id),
            complete: (key, id, parts) => isolateMemoryStorage.multipart.complete(key, id, parts),
            abort: async (key, id) => {
              if (failures-- > 0) throw new StorageError("storage down", true);
              await isolateMemoryStorage.multipart.abort(key, id);
            },
          },
        }),
      }),
    );
    expect(await expire(session.uploadId)).toBe(true);
    const retryAt = await runInDurableObject(stub, (_object: UploadSessionObject, state) => state.storage.getAlarm());
    expect(retryAt).toBeGreaterThan(Date.now());
    const held = await stub.get();
    expect(isolateMemoryStorage.multipart.pending()).toContain(held?.session.storageUploadId);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(isolateMemoryStorage.multipart.pending()).not.toContain(held?.session.storageUploadId);
    expect(await runInDurableObject(stub, (_object: UploadSessionObject, state) => state.storage.getAlarm())).toBeNull();
  });
});
