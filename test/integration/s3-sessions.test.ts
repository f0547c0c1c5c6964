// Upload sessions against a real S3 API (s3rver) behind the SigV4 proxy: parts go straight to
// the bucket through presigned URLs the proxy verifies with AWS's own signer.
import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import type { AcceptedUpload } from "../../src/jobs/record";
import type { CreatedSessionView } from "../../src/uploads/session-record";
import { injectFault, operations, peer, pendingUploads, proxyRequests, readAll, s3Overrides, testStorage } from "../support/s3";
import { sha256Hex } from "../support/worker";
import { MiB, caller, createSession, getSession, send, stepModel } from "../support/upload-sessions";

const SIZE = 2 * 8 * MiB + 3 * MiB;
const uniqueProject = () => `s3s-${crypto.randomUUID().slice(0, 8)}`;
const s3 = new AwsClient({ accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey, region: peer.region, service: "s3" });

async function partTarget(who: Awaited<ReturnType<typeof caller>>, session: CreatedSessionView, n: number) {
  const response = await send(who, "GET", `${session.links.self}/parts/${n}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as { url: string; method: "PUT"; headers: Record<string, string>; expiresAt: string };
}

async function putDirect(url: string, body: Uint8Array): Promise<Response> {
  return fetch(url, { method: "PUT", body, headers: { "content-length": String(body.byteLength) } });
}

const slice = (bytes: Uint8Array, session: CreatedSessionView, n: number) =>
  bytes.subarray((n - 1) * session.partSize, Math.min(bytes.byteLength, n * session.partSize));

describe("upload sessions on S3", () => {
  it("sends parts to presigned URLs, resumes from ListParts and completes into a job", async () => {
    const who = await caller(uniqueProject(), s3Overrides({ UPLOAD_PART_URL_TTL: "600" }));
    const bytes = stepModel(SIZE, "IFC2X3", 500);
    const session = await createSession(who, { filename: "tower.ifc", size: SIZE });
    expect(session).toMatchObject({ partSize: 8 * MiB, partCount: 3 });

    const first = await partTarget(who, session, 1);
    expect(first.url.startsWith(`${peer.endpoint}/${peer.bucket}/projects/${who.projectId}/`)).toBe(true);
    expect(new URL(first.url).searchParams.get("X-Amz-Expires")).toBe("600");
    expect(first.headers).toEqual({});
    expect(Date.parse(first.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    expect((await putDirect(first.url, slice(bytes, session, 1))).status).toBe(200);
    expect((await putDirect((await partTarget(who, session, 3)).url, slice(bytes, session, 3))).status).toBe(200);

    // The client lost its state: the listing comes from S3 (ListParts).
    const listed = await getSession(who, session);
    expect(listed.parts).toMatchObject([{ partNumber: 1, size: 8 * MiB }, { partNumber: 3, size: 3 * MiB }]);
    expect((await putDirect((await partTarget(who, session, 2)).url, slice(bytes, session, 2))).status).toBe(200);
    const parts = (await getSession(who, session)).parts.map(({ partNumber, etag }) => ({ partNumber, etag }));

    const completed = await send(who, "POST", `${session.links.self}/complete`, { json: { parts } });
    expect(completed.status, await completed.clone().text()).toBe(202);
    const reply = (await completed.json()) as AcceptedUpload;
    expect(reply).toMatchObject({ file: { name: "tower.ifc", size: SIZE, schema: "IFC2X3" }, upload: { uploadId: session.uploadId } });
    const object = await testStorage().get(`projects/${who.projectId}/models/${reply.jobId}/tower.ifc`);
    expect(await sha256Hex(await readAll(object?.body ?? new ReadableStream()))).toBe(await sha256Hex(bytes));

    const requests = await proxyRequests(`projects/${who.projectId}/`);
    const uploadsOfParts = requests.filter((r) => r.operation === "UploadPart");
    expect(uploadsOfParts.every((r) => r.presigned && r.signature === "valid")).toBe(true);
    expect(requests.filter((r) => !r.presigned).every((r) => r.signature === "valid")).toBe(true);
    expect(operations(requests)).toEqual(expect.arrayContaining(["CreateMultipartUpload", "ListParts", "CompleteMultipartUpload", "GetObject"]));
    expect(requests.find((r) => r.operation === "CreateMultipartUpload")?.sse).toBe("AES256");
    expect((await pendingUploads(`projects/${who.projectId}/`)).pending).toEqual([]);
  });

  it("has tampered and expired presigned URLs refused by the verifying peer", async () => {
    const who = await caller(uniqueProject(), s3Overrides());
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    const { url } = await partTarget(who, session, 1);
    const tampered = url.replace("partNumber=1", "partNumber=2");
    const refused = await putDirect(tampered, new Uint8Array(8 * MiB));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("SignatureDoesNotMatch");

    const stale = new URL(url);
    for (const name of [...stale.searchParams.keys()].filter((k) => k.startsWith("X-Amz-"))) stale.searchParams.delete(name);
    stale.searchParams.set("X-Amz-Expires", "60");
    const signed = await s3.sign(stale.toString(), { method: "PUT", aws: { signQuery: true, datetime: "20200101T000000Z" } });
    const expired = await putDirect(signed.url, new Uint8Array(8 * MiB));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("Request has expired");
    expect((await getSession(who, session)).parts).toEqual([]);
  });

  it("has S3 itself refuse a completion with a wrong ETag or too small a part (what s3rver does not check)", async () => {
    const storage = testStorage();
    const key = `projects/${uniqueProject()}/direct/check.ifc`;
    const uploadId = await storage.multipart.create(key);
    const part = await storage.multipart.uploadPart(key, uploadId, 1, new Blob([new Uint8Array(MiB)]).stream(), MiB);
    const tail = await storage.multipart.uploadPart(key, uploadId, 2, new Blob([new Uint8Array(10)]).stream(), 10);
    await expect(storage.multipart.complete(key, uploadId, [{ partNumber: 1, etag: '"0f"' }])).rejects.toMatchObject({ code: "invalid-part" });
    await expect(storage.multipart.complete(key, uploadId, [part, tail])).rejects.toMatchObject({ code: "invalid-part" });
    expect(await storage.multipart.listParts(key, uploadId)).toEqual([part, tail]);
    await storage.multipart.abort(key, uploadId);
    await expect(storage.multipart.listParts(key, uploadId)).rejects.toMatchObject({ code: "no-such-upload" });
    // Aborting what is gone is done already.
    await storage.multipart.abort(key, uploadId);
  });

  it("aborts the S3 upload when a session is deleted", async () => {
    const projectId = uniqueProject();
    const who = await caller(projectId, s3Overrides());
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    expect((await pendingUploads(`projects/${projectId}/`)).pending).toHaveLength(1);
    expect((await send(who, "DELETE", session.links.self)).status).toBe(204);
    expect((await pendingUploads(`projects/${projectId}/`)).pending).toEqual([]);
    expect(operations(await proxyRequests(`projects/${projectId}/`))).toContain("AbortMultipartUpload");
  });

  it("answers 503 with Retry-After when S3 fails to list the parts, and keeps the session", async () => {
    const projectId = uniqueProject();
    const who = await caller(projectId, s3Overrides());
    const session = await createSession(who, { filename: "t.ifc", size: SIZE });
    await injectFault({ operation: "ListParts", keyPrefix: `projects/${projectId}/`, status: 500, code: "InternalError", times: 3 });
    const failed = await send(who, "GET", session.links.self);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("5");
    expect(await failed.text()).not.toContain("InternalError");
    expect((await getSession(who, session)).status).toBe("open");
  });
});
