// The upload route against a real S3 API (s3rver) behind a proxy that verifies every SigV4
// signature with AWS's own signer and records what it saw.
import { beforeAll, describe, expect, it } from "vitest";
import { expectProblem } from "../support/problem";
import { api, bearer, call, fixture, sha256Hex, upload } from "../support/worker";
import {
  MiB,
  chunked,
  failingBody,
  injectFault,
  operations,
  pendingUploads,
  proxyRequests,
  readAll,
  s3Overrides,
  testStorage,
} from "../support/s3";
import type { RecordedRequest } from "../support/s3-peer-info";

interface Accepted {
  jobId: string;
  file: { name: string; size: number; sha256: string; schema: string };
}

const LARGE_MODEL = "generated/duplex-12mb.ifc";
const uniqueProject = () => `s3-${crypto.randomUUID().slice(0, 8)}`;
const prefixOf = (projectId: string) => `projects/${projectId}/`;
const writes = (requests: RecordedRequest[]) =>
  requests.filter((r) => r.operation === "PutObject" || r.operation === "CreateMultipartUpload");

let large: Uint8Array;

beforeAll(async () => {
  large = await fixture(LARGE_MODEL);
  // Three parts at 5 MiB: two full ones and a shorter last one.
  expect(large.byteLength).toBeGreaterThan(10 * MiB);
  expect(large.byteLength).toBeLessThan(15 * MiB);
});

/** Nothing stored under the project, and no multipart upload left open (by the proxy's count and on s3rver's disk). */
async function expectNothingLeft(projectId: string): Promise<void> {
  const uploads = await pendingUploads(prefixOf(projectId));
  expect(uploads.pending).toEqual([]);
  expect(uploads.onDisk).toEqual([]);
  const keys = new Set((await proxyRequests(prefixOf(projectId))).map((r) => r.key));
  expect(keys.size).toBeGreaterThan(0);
  for (const key of keys) expect(await testStorage().head(key)).toBeNull();
}

describe("uploads into S3", () => {
  it("stores a small model with one encrypted, signed PutObject and reads it back byte for byte", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("test.ifc");
    const response = await upload(projectId, bytes, { filename: "test.ifc", overrides: s3Overrides() });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as Accepted;
    expect(accepted.file.sha256).toBe(await sha256Hex(bytes));

    const key = `projects/${projectId}/models/${accepted.jobId}/test.ifc`;
    const stored = await testStorage().get(key);
    expect(stored?.size).toBe(bytes.byteLength);
    expect(await sha256Hex(await readAll(stored?.body ?? new ReadableStream()))).toBe(accepted.file.sha256);

    const requests = await proxyRequests(prefixOf(projectId));
    const puts = requests.filter((r) => r.operation === "PutObject");
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ key, sse: "AES256", signature: "valid", status: 200, bytes: bytes.byteLength });
    // By default the body is not hashed a second time for the signature (TLS guards it in production).
    expect(puts[0]?.contentSha256).toBe("UNSIGNED-PAYLOAD");
    expect(operations(requests)).not.toContain("CreateMultipartUpload");
  });

  it("stores a 12 MB model as a three-part multipart upload, byte-identical when read back", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, large, { filename: "large.ifc", overrides: s3Overrides() });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as Accepted;
    expect(accepted.file).toMatchObject({ size: large.byteLength, sha256: await sha256Hex(large), schema: "IFC2X3" });

    const requests = await proxyRequests(prefixOf(projectId));
    const parts = requests.filter((r) => r.operation === "UploadPart");
    expect(parts.map((p) => Number(p.query.partNumber)).sort()).toEqual([1, 2, 3]);
    expect(parts.map((p) => p.bytes)).toEqual(expect.arrayContaining([5 * MiB, 5 * MiB, large.byteLength - 10 * MiB]));
    expect(operations(requests).filter((op) => op !== "UploadPart")).toEqual(["CreateMultipartUpload", "CompleteMultipartUpload"]);
    expect(requests.every((r) => r.signature === "valid" && r.status < 300)).toBe(true);
    expect((await pendingUploads(prefixOf(projectId))).pending).toEqual([]);

    const key = `projects/${projectId}/models/${accepted.jobId}/large.ifc`;
    const stored = await testStorage().get(key);
    expect(stored?.size).toBe(large.byteLength);
    const back = await readAll(stored?.body ?? new ReadableStream());
    expect(back.byteLength).toBe(large.byteLength);
    expect(await sha256Hex(back)).toBe(accepted.file.sha256);

    const ranged = await testStorage().get(key, { offset: 5 * MiB - 10, length: 20 });
    expect(ranged?.size).toBe(large.byteLength);
    expect(await readAll(ranged?.body ?? new ReadableStream())).toEqual(large.slice(5 * MiB - 10, 5 * MiB + 10));
  });

  it("stores a multipart/form-data upload of unknown length through the same multipart path", async () => {
    const projectId = uniqueProject();
    const form = new FormData();
    form.append("file", new File([large], "form.ifc"));
    const response = await upload(projectId, form, { overrides: s3Overrides() });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as Accepted;
    expect(accepted.file.sha256).toBe(await sha256Hex(large));
    const head = await testStorage().head(`projects/${projectId}/models/${accepted.jobId}/form.ifc`);
    expect(head?.size).toBe(large.byteLength);
  });

  it("sends the encryption header on every write, with the KMS key when S3_SSE=aws:kms", async () => {
    const projectId = uniqueProject();
    const kms = s3Overrides({ S3_SSE: "aws:kms", S3_SSE_KMS_KEY_ID: "arn:aws:kms:us-east-1:111122223333:key/test" });
    expect((await upload(projectId, await fixture("test.ifc"), { filename: "a.ifc", overrides: kms })).status).toBe(202);
    expect((await upload(projectId, large, { filename: "b.ifc", overrides: kms })).status).toBe(202);
    expect((await upload(projectId, await fixture("example.ifc"), { filename: "c.ifc", overrides: s3Overrides() })).status).toBe(202);

    const requests = await proxyRequests(prefixOf(projectId));
    const written = writes(requests);
    expect(written.map((r) => r.operation).sort()).toEqual(["CreateMultipartUpload", "PutObject", "PutObject"]);
    for (const write of written) expect(write.sse, `${write.operation} ${write.key}`).not.toBeNull();
    expect(written.filter((r) => r.key.endsWith("/a.ifc") || r.key.endsWith("/b.ifc"))).toEqual([
      expect.objectContaining({ sse: "aws:kms", sseKmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/test" }),
      expect.objectContaining({ sse: "aws:kms", sseKmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/test" }),
    ]);
    expect(written.find((r) => r.key.endsWith("/c.ifc"))).toMatchObject({ sse: "AES256", sseKmsKeyId: null });
  });

  it("answers 503 naming the credentials when the secret key is wrong, and stores nothing", async () => {
    const projectId = uniqueProject();
    const secret = "definitely-not-the-right-secret";
    const response = await upload(projectId, await fixture("test.ifc"), {
      filename: "test.ifc",
      overrides: s3Overrides({ AWS_SECRET_ACCESS_KEY: secret }),
    });
    const problem = await expectProblem(response, 503, "storage-unavailable");
    expect(problem.detail).toContain("credentials");
    expect(JSON.stringify(problem)).not.toContain(secret);
    expect(response.headers.get("retry-after")).toBeNull();

    const requests = await proxyRequests(prefixOf(projectId));
    // Not retried: a bad signature does not get better by waiting.
    expect(requests.filter((r) => r.operation === "PutObject")).toEqual([
      expect.objectContaining({ signature: "mismatch", status: 403 }),
    ]);
    await expectNothingLeft(projectId);
  });

  it("answers 503 for a large upload with a wrong secret before sending any part", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, large, {
      filename: "large.ifc",
      overrides: s3Overrides({ AWS_SECRET_ACCESS_KEY: "wrong-wrong-wrong" }),
    });
    const problem = await expectProblem(response, 503, "storage-unavailable");
    expect(problem.detail).toContain("credentials");
    const requests = await proxyRequests(prefixOf(projectId));
    expect(operations(requests).filter((op) => op !== "DeleteObject")).toEqual(["CreateMultipartUpload"]);
    await expectNothingLeft(projectId);
  });

  it("answers 503 for a bucket that does not exist, without retrying", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, await fixture("test.ifc"), {
      filename: "test.ifc",
      overrides: s3Overrides({ S3_BUCKET: "no-such-bucket-here" }),
    });
    await expectProblem(response, 503, "storage-unavailable");
    const puts = (await proxyRequests(prefixOf(projectId))).filter((r) => r.operation === "PutObject");
    expect(puts).toHaveLength(1);
    expect(puts[0]?.status).toBe(404);
  });

  it("leaves no object and no open multipart upload when the client goes away mid-upload", async () => {
    const projectId = uniqueProject();
    // Two full parts reach S3, then the body fails the way a dropped connection does (the
    // pump's last block in flight, up to 1 MiB, is dropped with the failure).
    const body = failingBody(large, 11.5 * MiB, new TypeError("Network connection lost."));
    const response = await upload(projectId, body, { filename: "gone.ifc", overrides: s3Overrides() });
    await expectProblem(response, 400, "upload-interrupted");

    const requests = await proxyRequests(prefixOf(projectId));
    expect(requests.filter((r) => r.operation === "UploadPart").length).toBeGreaterThanOrEqual(2);
    expect(operations(requests)).toContain("AbortMultipartUpload");
    expect(operations(requests)).not.toContain("CompleteMultipartUpload");
    await expectNothingLeft(projectId);
  });

  it("aborts the multipart upload when the inspection rejects the file mid-upload (size limit)", async () => {
    const projectId = uniqueProject();
    const response = await upload(projectId, chunked(large), {
      filename: "big.ifc",
      overrides: s3Overrides({ MAX_UPLOAD_BYTES: String(8 * MiB) }),
    });
    await expectProblem(response, 413, "payload-too-large");
    const requests = await proxyRequests(prefixOf(projectId));
    expect(operations(requests)).toContain("CreateMultipartUpload");
    expect(operations(requests)).toContain("AbortMultipartUpload");
    await expectNothingLeft(projectId);
  });

  it("aborts the multipart upload when a form-data body turns out truncated mid-upload", async () => {
    const projectId = uniqueProject();
    const head = new TextEncoder().encode('--XyZ\r\ncontent-disposition: form-data; name="file"; filename="cut.ifc"\r\n\r\n');
    const body = new Uint8Array(head.byteLength + large.byteLength);
    body.set(head);
    body.set(large, head.byteLength);
    const response = await upload(projectId, body, {
      headers: { "content-type": "multipart/form-data; boundary=XyZ" },
      overrides: s3Overrides(),
    });
    await expectProblem(response, 400, "invalid-multipart");
    const requests = await proxyRequests(prefixOf(projectId));
    expect(operations(requests)).toContain("UploadPart");
    expect(operations(requests)).toContain("AbortMultipartUpload");
    await expectNothingLeft(projectId);
  });

  it("rejects a large non-IFC body from its first bytes, before anything is written to S3", async () => {
    const projectId = uniqueProject();
    const bogus = new Uint8Array(12 * MiB).fill(0x41);
    const response = await upload(projectId, bogus, { filename: "x.ifc", overrides: s3Overrides() });
    await expectProblem(response, 415, "not-ifc");
    expect(writes(await proxyRequests(prefixOf(projectId)))).toEqual([]);
    await expectNothingLeft(projectId);
  });

  it("retries a throttled part with backoff and completes the upload", async () => {
    const projectId = uniqueProject();
    await injectFault({ operation: "UploadPart", keyPrefix: prefixOf(projectId), partNumber: 2, status: 503, code: "SlowDown", times: 2 });
    const response = await upload(projectId, large, { filename: "slow.ifc", overrides: s3Overrides() });
    expect(response.status).toBe(202);
    const part2 = (await proxyRequests(prefixOf(projectId))).filter((r) => r.operation === "UploadPart" && r.query.partNumber === "2");
    expect(part2.map((r) => r.status)).toEqual([503, 503, 200]);
    expect((await pendingUploads(prefixOf(projectId))).pending).toEqual([]);
  });

  it("gives up on a part after three attempts, aborts, and answers 503 with Retry-After", async () => {
    const projectId = uniqueProject();
    await injectFault({ operation: "UploadPart", keyPrefix: prefixOf(projectId), partNumber: 1, status: 500, code: "InternalError", times: 3 });
    const response = await upload(projectId, large, { filename: "broken.ifc", overrides: s3Overrides() });
    const problem = await expectProblem(response, 503, "storage-unavailable");
    expect(problem.detail).toContain("retry later");
    expect(response.headers.get("retry-after")).toBe("5");
    const requests = await proxyRequests(prefixOf(projectId));
    expect(requests.filter((r) => r.operation === "UploadPart" && r.query.partNumber === "1")).toHaveLength(3);
    expect(operations(requests)).toContain("AbortMultipartUpload");
    await expectNothingLeft(projectId);
  });

  it("reports S3 in /readyz, and a wrong secret as unreachable storage", async () => {
    const auth = await bearer(["*"]);
    const ok = await call(new Request(api("/readyz"), { headers: auth }), s3Overrides());
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ storage: { driver: "s3", status: "ok" } });
    const bad = await call(new Request(api("/readyz"), { headers: auth }), s3Overrides({ AWS_SECRET_ACCESS_KEY: "nope-nope" }));
    expect(bad.status).toBe(503);
    expect(await bad.json()).toMatchObject({ storage: { driver: "s3", status: "unreachable" } });
  });
});
