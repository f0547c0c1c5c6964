import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { durableIdempotencyKeys, idempotencyKeyName } from "../../src/idempotency/client";
import type { IdempotencyKeyObject } from "../../src/idempotency/object";
import { KEY_TAKEOVER_MS } from "../../src/ingest/idempotency";
import type { AcceptedUpload } from "../../src/jobs/record";
import { sleep } from "../support/notify";
import { expectProblem } from "../support/problem";
import { caller, createSession, putPart, send, stepModel } from "../support/upload-sessions";
import { api, call, fixture, token, uniqueProject, upload } from "../support/worker";

const r2 = { STORAGE_DRIVER: "r2" } as const;
const keys = durableIdempotencyKeys(env.IDEMPOTENCY_KEYS);
const HOUR = 3_600_000;

async function storedKeys(projectId: string): Promise<string[]> {
  const listed = await env.MODELS?.list({ prefix: `projects/${projectId}/` });
  return listed?.objects.map((o) => o.key) ?? [];
}

async function jobBody(projectId: string, jobId: string): Promise<unknown> {
  const response = await call(new Request(api(`/v1/jobs/${jobId}`), { headers: { authorization: `Bearer ${await token([projectId])}` } }));
  expect(response.status).toBe(200);
  return response.json();
}

const keyObject = (name: string) => env.IDEMPOTENCY_KEYS.get(env.IDEMPOTENCY_KEYS.idFromName(name));

/** The tables a key's object holds: none means it stores nothing at all. */
const tables = (name: string) =>
  runInDurableObject(keyObject(name), (_object: IdempotencyKeyObject, state) =>
    state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((row) => row.name),
  );

const reply = (jobId: string): AcceptedUpload => ({
  jobId,
  projectId: "p",
  status: "queued",
  file: { name: "a.ifc", size: 1, sha256: "00", schema: "IFC4" },
  links: { self: `/v1/jobs/${jobId}` },
});

function claimAt(name: string, owner: string, now: number, jobId = crypto.randomUUID()) {
  return keys.claim(name, { projectId: "p", owner, jobId, now, expiresAt: now + 24 * HOUR, takeoverMs: KEY_TAKEOVER_MS });
}

describe("Idempotency-Key on direct uploads", () => {
  it("answers 422 idempotency-key-mismatch to another body under the key, storing nothing and changing no job", async () => {
    const projectId = uniqueProject();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const first = await upload(projectId, await fixture("test.ifc"), { filename: "model.ifc", headers, overrides: r2 });
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as AcceptedUpload;
    const jobBefore = await jobBody(projectId, accepted.jobId);

    const other = await upload(projectId, await fixture("IfcOpenHouse_IFC4.ifc"), { filename: "model.ifc", headers, overrides: r2 });
    const problem = await expectProblem(other, 422, "idempotency-key-mismatch");
    expect(problem.detail).toContain("SHA-256");
    // Another name under the key is refused as well, before the body is read.
    await expectProblem(await upload(projectId, await fixture("test.ifc"), { filename: "renamed.ifc", headers, overrides: r2 }), 422, "idempotency-key-mismatch");

    expect(await storedKeys(projectId)).toEqual([`projects/${projectId}/models/${accepted.jobId}/model.ifc`]);
    expect(await jobBody(projectId, accepted.jobId)).toEqual(jobBefore);
    // The key still answers the first request as it did.
    const replay = await upload(projectId, await fixture("test.ifc"), { filename: "model.ifc", headers, overrides: r2 });
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("location")).toBe(first.headers.get("location"));
    expect(await replay.json()).toEqual(accepted);
  });

  it("compares a multipart body's file, not its envelope", async () => {
    const projectId = uniqueProject();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const bytes = await fixture("test.ifc");
    const form = (note: string) => {
      const body = new FormData();
      body.append("note", note);
      body.append("file", new File([bytes], "form.ifc"));
      return body;
    };
    const first = await upload(projectId, form("first"), { headers, overrides: r2 });
    expect(first.status).toBe(202);
    const again = await upload(projectId, form("a retry with another boundary and note"), { headers, overrides: r2 });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
  });

  it("starts a new job with the same key once IDEMPOTENCY_TTL has passed", async () => {
    const projectId = uniqueProject();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const overrides = { ...r2, IDEMPOTENCY_TTL: "1" };
    const bytes = await fixture("test.ifc");
    const first = (await (await upload(projectId, bytes, { filename: "a.ifc", headers, overrides })).json()) as AcceptedUpload;
    await sleep(1_100);
    const later = await upload(projectId, bytes, { filename: "a.ifc", headers, overrides });
    expect(later.status).toBe(202);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    const second = (await later.json()) as AcceptedUpload;
    expect(second.jobId).not.toBe(first.jobId);
    // The first job lives on for its own retention.
    await jobBody(projectId, first.jobId);
    expect(await storedKeys(projectId)).toHaveLength(2);
  });

  it("answers with the job an owner recorded before it died, once its hold has lapsed", async () => {
    const projectId = uniqueProject();
    const key = `key-${crypto.randomUUID()}`;
    const bytes = await fixture("test.ifc");
    const recorded = (await (await upload(projectId, bytes, { filename: "a.ifc", overrides: r2 })).json()) as AcceptedUpload;
    // The owner held the key for this job, recorded it and died before it completed the key.
    const name = await idempotencyKeyName(projectId, key);
    await keys.claim(name, { projectId, owner: "dead", jobId: recorded.jobId, now: Date.now() - KEY_TAKEOVER_MS - 1_000, expiresAt: Date.now() + HOUR, takeoverMs: KEY_TAKEOVER_MS });

    const headers = { "idempotency-key": key };
    await expectProblem(await upload(projectId, await fixture("IfcOpenHouse_IFC4.ifc"), { filename: "a.ifc", headers, overrides: r2 }), 422, "idempotency-key-mismatch");
    const retry = await upload(projectId, bytes, { filename: "a.ifc", headers, overrides: r2 });
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.json()).toEqual(recorded);
    expect(await storedKeys(projectId)).toHaveLength(1);
  });

  it("answers 409 with Retry-After while the key's owner is alive, and takes a lapsed hold over", async () => {
    const projectId = uniqueProject();
    const key = `key-${crypto.randomUUID()}`;
    const name = await idempotencyKeyName(projectId, key);
    const bytes = await fixture("test.ifc");
    await keys.claim(name, { projectId, owner: "alive", jobId: crypto.randomUUID(), now: Date.now(), expiresAt: Date.now() + HOUR, takeoverMs: KEY_TAKEOVER_MS });
    const busy = await upload(projectId, bytes, { filename: "a.ifc", headers: { "idempotency-key": key }, overrides: r2 });
    await expectProblem(busy, 409, "idempotency-conflict");
    expect(busy.headers.get("retry-after")).toBe("5");
    expect(await storedKeys(projectId)).toEqual([]);

    const lapsedKey = `key-${crypto.randomUUID()}`;
    const lapsed = await idempotencyKeyName(projectId, lapsedKey);
    await keys.claim(lapsed, { projectId, owner: "dead", jobId: crypto.randomUUID(), now: Date.now() - KEY_TAKEOVER_MS - 1_000, expiresAt: Date.now() + HOUR, takeoverMs: KEY_TAKEOVER_MS });
    const taken = await upload(projectId, bytes, { filename: "a.ifc", headers: { "idempotency-key": lapsedKey }, overrides: r2 });
    expect(taken.status).toBe(202);
    expect(taken.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("Idempotency-Key on session completion", () => {
  async function openSession(who: Awaited<ReturnType<typeof caller>>, bytes: Uint8Array) {
    const session = await createSession(who, { filename: "tower.ifc", size: bytes.byteLength });
    const part = await putPart(who, session, bytes, 1);
    expect(part.status).toBe(200);
    const { etag } = (await part.json()) as { etag: string };
    return { session, parts: [{ partNumber: 1, etag }] };
  }

  it("replays the completion under the key and refuses the key on another session, changing nothing", async () => {
    const who = await caller(uniqueProject());
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const a = await openSession(who, stepModel(64 * 1024));
    const b = await openSession(who, stepModel(48 * 1024));
    const first = await send(who, "POST", `${a.session.links.self}/complete`, { json: { parts: a.parts }, headers });
    expect(first.status).toBe(202);
    const again = await send(who, "POST", `${a.session.links.self}/complete`, { json: { parts: a.parts }, headers });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect(await again.json()).toEqual(await first.json());

    await expectProblem(await send(who, "POST", `${b.session.links.self}/complete`, { json: { parts: b.parts }, headers }), 422, "idempotency-key-mismatch");
    const other = (await (await send(who, "GET", b.session.links.self)).json()) as { status: string };
    expect(other.status).toBe("open");
  });
});

describe("Idempotency-Key after a failed request", () => {
  it("is free again once a completion under it failed", async () => {
    const who = await caller(uniqueProject());
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const bytes = stepModel(64 * 1024);
    const session = await createSession(who, { filename: "tower.ifc", size: bytes.byteLength });
    const part = (await (await putPart(who, session, bytes, 1)).json()) as { etag: string };
    const wrong = await send(who, "POST", `${session.links.self}/complete`, { json: { parts: [{ partNumber: 1, etag: '"not-it"' }] }, headers });
    await expectProblem(wrong, 400, "part-mismatch");
    const right = await send(who, "POST", `${session.links.self}/complete`, { json: { parts: [{ partNumber: 1, etag: part.etag }] }, headers });
    expect(right.status).toBe(202);
    expect(right.headers.get("idempotent-replayed")).toBeNull();
  });

  it("refuses a replayed body above MAX_UPLOAD_BYTES with 413, storing nothing", async () => {
    const projectId = uniqueProject();
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const bytes = await fixture("test.ifc");
    expect((await upload(projectId, bytes, { filename: "a.ifc", headers, overrides: r2 })).status).toBe(202);
    const big = new Uint8Array(bytes.byteLength + 1024);
    big.set(bytes);
    const refused = await upload(projectId, big, { filename: "a.ifc", headers, overrides: { ...r2, MAX_UPLOAD_BYTES: String(bytes.byteLength + 10) } });
    await expectProblem(refused, 413, "payload-too-large");
    expect(await storedKeys(projectId)).toHaveLength(1);
  });
});

describe("an Idempotency-Key's record", () => {
  it("is renewed, completed or released only by its owner", async () => {
    const name = `idempotency-key:test-${crypto.randomUUID()}`;
    const now = Date.now();
    expect(await claimAt(name, "owner", now)).toMatchObject({ state: "claimed" });
    expect(await keys.renew(name, "intruder", now, now + HOUR)).toBe(false);
    expect(await keys.complete(name, "intruder", "file:x", reply("j"), now, now + HOUR)).toBe(false);
    await keys.release(name, "intruder");
    expect(await claimAt(name, "other", now + 1)).toEqual({ state: "in-flight" });
    expect(await keys.complete(name, "owner", "file:x", reply("j"), now, now + HOUR)).toBe(true);
    expect(await claimAt(name, "other", now + 2)).toEqual({ state: "done", fingerprint: "file:x", reply: reply("j") });
    // A completed key is not the owner's to release any more.
    await keys.release(name, "owner");
    expect(await claimAt(name, "other", now + 3)).toMatchObject({ state: "done" });
  });

  it("keeps a slow owner that renews, and lets a silent one be taken over", async () => {
    const name = `idempotency-key:test-${crypto.randomUUID()}`;
    const t0 = Date.now();
    await claimAt(name, "slow", t0, "job-1");
    expect(await keys.renew(name, "slow", t0 + KEY_TAKEOVER_MS - 1, t0 + HOUR)).toBe(true);
    // Longer than the takeover time since the claim, but not since the last renewal.
    expect(await claimAt(name, "eager", t0 + KEY_TAKEOVER_MS + 10)).toEqual({ state: "in-flight" });
    const taken = await claimAt(name, "eager", t0 + 2 * KEY_TAKEOVER_MS, "job-2");
    expect(taken).toEqual({ state: "claimed", jobId: "job-2", previousJobId: "job-1" });
    // The old owner has lost it: it can neither renew nor complete.
    expect(await keys.renew(name, "slow", t0 + 2 * KEY_TAKEOVER_MS, t0 + HOUR)).toBe(false);
    expect(await keys.complete(name, "slow", "file:x", reply("job-1"), t0 + 2 * KEY_TAKEOVER_MS, t0 + HOUR)).toBe(false);
  });

  it("counts as absent once expired, and its alarm leaves nothing behind", async () => {
    const name = `idempotency-key:test-${crypto.randomUUID()}`;
    const now = Date.now();
    await keys.claim(name, { projectId: "p", owner: "a", jobId: "job-1", now, expiresAt: now + 50, takeoverMs: KEY_TAKEOVER_MS });
    expect(await keys.complete(name, "a", "file:x", reply("job-1"), now, now + 50)).toBe(true);
    expect(await claimAt(name, "b", now + 51, "job-2")).toEqual({ state: "claimed", jobId: "job-2" });
    expect(await keys.complete(name, "b", "file:y", reply("job-2"), now + 52, Date.now() + 30)).toBe(true);
    expect((await tables(name)).length).toBeGreaterThan(0);
    await sleep(40);
    // Unless the runtime ran it already.
    await runDurableObjectAlarm(keyObject(name));
    expect(await tables(name)).toEqual([]);
  });

  it("stores nothing when a renewal, completion or release finds no record", async () => {
    const name = `idempotency-key:test-${crypto.randomUUID()}`;
    const now = Date.now();
    expect(await keys.renew(name, "late", now, now + HOUR)).toBe(false);
    expect(await keys.complete(name, "late", "file:x", reply("j"), now, now + HOUR)).toBe(false);
    await keys.release(name, "late");
    expect(await tables(name)).toEqual([]);
    expect(await claimAt(name, "next", now + 1, "job-2")).toEqual({ state: "claimed", jobId: "job-2" });
  });

  it("leaves nothing behind when its owner releases it", async () => {
    const name = `idempotency-key:test-${crypto.randomUUID()}`;
    await claimAt(name, "a", Date.now());
    await keys.release(name, "a");
    expect(await tables(name)).toEqual([]);
  });
});
