// The S3 adapter on its own, against s3rver behind the SigV4-verifying proxy.
import { describe, expect, it } from "vitest";
import { ProblemError } from "../../src/lib/problem";
import { BufferBudget, UploadCapacityError } from "../../src/storage/buffer-budget";
import { StorageError } from "../../src/storage/object-storage";
import { bucketUrl, encodeRfc3986 } from "../../src/storage/s3";
import { sha256Hex } from "../support/worker";
import { pattern } from "../support/streams";
import { MiB, chunked, failingBody, injectFault, maxOverlap, operations, pendingUploads, proxyRequests, readAll, testStorage } from "../support/s3";

const uniquePrefix = () => `adapter/${crypto.randomUUID().slice(0, 8)}/`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("S3 adapter", () => {
  it("round-trips an object and serves ranges, head and delete", async () => {
    const storage = testStorage();
    const key = `${uniquePrefix()}odd name (1) & more+.ifc`;
    const bytes = pattern(300_000);
    expect(await storage.put(key, chunked(bytes, 10_000), { contentType: "application/x-step" })).toEqual({ key, size: 300_000 });

    expect(await storage.head(key)).toEqual({ key, size: 300_000 });
    const whole = await storage.get(key);
    expect(await readAll(whole?.body ?? new ReadableStream())).toEqual(bytes);

    const middle = await storage.get(key, { offset: 1000, length: 500 });
    expect(middle?.size).toBe(300_000);
    expect(await readAll(middle?.body ?? new ReadableStream())).toEqual(bytes.slice(1000, 1500));
    const tail = await storage.get(key, { offset: 299_990 });
    expect(await readAll(tail?.body ?? new ReadableStream())).toEqual(bytes.slice(299_990));
    const none = await storage.get(key, { offset: 10, length: 0 });
    expect(none?.size).toBe(300_000);
    expect(await readAll(none?.body ?? new ReadableStream())).toEqual(new Uint8Array(0));
    const beyond = await storage.get(key, { offset: 400_000 });
    expect(beyond?.size).toBe(300_000);
    expect(await readAll(beyond?.body ?? new ReadableStream())).toEqual(new Uint8Array(0));

    await storage.delete(key);
    expect(await storage.head(key)).toBeNull();
    expect(await storage.get(key)).toBeNull();
    expect(await storage.get(key, { offset: 0, length: 0 })).toBeNull();
    await storage.delete(key);
  });

  it("signs the SHA-256 of every body when asked, and the proxy verifies it", async () => {
    const prefix = uniquePrefix();
    const small = pattern(1000);
    const large = pattern(6 * MiB);
    const storage = testStorage({ signPayload: true });
    await storage.put(`${prefix}small.ifc`, chunked(small));
    await storage.put(`${prefix}large.ifc`, chunked(large, MiB));
    const requests = await proxyRequests(prefix);
    const bodies = requests.filter((r) => r.operation === "PutObject" || r.operation === "UploadPart");
    expect(bodies).toHaveLength(3);
    const expected = [small, large.subarray(0, 5 * MiB), large.subarray(5 * MiB)];
    expect(new Set(bodies.map((r) => r.contentSha256))).toEqual(new Set(await Promise.all(expected.map((bytes) => sha256Hex(bytes)))));
    expect(requests.every((r) => r.signature === "valid" && r.status < 300)).toBe(true);
  });

  it("stores an empty body with a single PutObject", async () => {
    const key = `${uniquePrefix()}empty.ifc`;
    expect(await testStorage().put(key, chunked(new Uint8Array(0)))).toEqual({ key, size: 0 });
    expect(await testStorage().head(key)).toEqual({ key, size: 0 });
  });

  it("uses a one-part multipart upload for a body of exactly one part", async () => {
    const prefix = uniquePrefix();
    const bytes = pattern(5 * MiB);
    expect(await testStorage().put(`${prefix}exact.ifc`, chunked(bytes, MiB))).toEqual({ key: `${prefix}exact.ifc`, size: 5 * MiB });
    const requests = await proxyRequests(prefix);
    expect(requests.map((r) => r.operation)).toEqual(["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]);
    const stored = await testStorage().get(`${prefix}exact.ifc`);
    expect(await sha256Hex(await readAll(stored?.body ?? new ReadableStream()))).toBe(await sha256Hex(bytes));
  });

  it("keeps at most S3_UPLOAD_CONCURRENCY parts in flight", async () => {
    const prefix = uniquePrefix();
    // Slow parts make overlap visible: each answer waits 150 ms at the proxy.
    await injectFault({ operation: "UploadPart", keyPrefix: prefix, delayMs: 150, times: 100 });
    const bytes = pattern(6 * 5 * MiB + 123);
    await testStorage({ uploadConcurrency: 2 }).put(`${prefix}seven-parts.ifc`, chunked(bytes, MiB));
    const requests = await proxyRequests(prefix);
    expect(requests.filter((r) => r.operation === "UploadPart")).toHaveLength(7);
    expect(maxOverlap(requests, "UploadPart")).toBe(2);
    const stored = await testStorage().get(`${prefix}seven-parts.ifc`);
    // Compared by hash: a deep equality of 30 MB is slow.
    expect(await sha256Hex(await readAll(stored?.body ?? new ReadableStream()))).toBe(await sha256Hex(bytes));
  });

  it("shares the isolate's buffer budget between concurrent uploads, which slow down instead of failing", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "UploadPart", keyPrefix: prefix, delayMs: 100, times: 100 });
    // Three parts' worth for two uploads that would each like four in flight plus one filling.
    const budget = new BufferBudget(3 * 5 * MiB);
    const storage = testStorage({ uploadConcurrency: 4 }, { bufferBudget: budget });
    const one = pattern(4 * 5 * MiB + 11);
    const two = pattern(3 * 5 * MiB + 7).reverse();
    await Promise.all([
      storage.put(`${prefix}one.ifc`, chunked(one, MiB)),
      storage.put(`${prefix}two.ifc`, chunked(two, MiB)),
    ]);
    expect(budget.freeBytes).toBe(budget.totalBytes);
    // Each part in flight holds a buffer, and only three exist between the two uploads.
    expect(maxOverlap(await proxyRequests(prefix), "UploadPart")).toBeLessThanOrEqual(3);
    for (const [name, bytes] of [["one", one], ["two", two]] as const) {
      const stored = await testStorage().get(`${prefix}${name}.ifc`);
      expect(await sha256Hex(await readAll(stored?.body ?? new ReadableStream()))).toBe(await sha256Hex(bytes));
    }
  });

  it("stores a body shorter than a part with a buffer of its size, within a budget smaller than a part", async () => {
    const prefix = uniquePrefix();
    const budget = new BufferBudget(MiB);
    const storage = testStorage({}, { bufferBudget: budget });
    const bytes = pattern(300_000);
    // Exact length (a raw upload) or an upper bound (a file in a multipart request).
    expect(await storage.put(`${prefix}exact.ifc`, chunked(bytes), { contentLength: 300_000 })).toEqual({ key: `${prefix}exact.ifc`, size: 300_000 });
    expect(await storage.put(`${prefix}bound.ifc`, chunked(bytes), { maxLength: 400_000 })).toEqual({ key: `${prefix}bound.ifc`, size: 300_000 });
    expect(budget.freeBytes).toBe(MiB);
    expect(operations(await proxyRequests(prefix))).toEqual(["PutObject", "PutObject"]);
    expect(await readAll((await testStorage().get(`${prefix}bound.ifc`))?.body ?? new ReadableStream())).toEqual(bytes);
  });

  it("refuses a body longer than the bound it was declared to keep, and stores nothing", async () => {
    const prefix = uniquePrefix();
    const budget = new BufferBudget(MiB);
    const error = await rejection(testStorage({}, { bufferBudget: budget }).put(`${prefix}long.ifc`, chunked(pattern(300_000)), { maxLength: 100_000 }));
    expect(error).toBeInstanceOf(RangeError);
    expect(budget.freeBytes).toBe(MiB);
    expect(await proxyRequests(prefix)).toEqual([]);
  });

  it("refuses an upload before any request when the isolate's buffer budget is spent", async () => {
    const prefix = uniquePrefix();
    const budget = new BufferBudget(5 * MiB);
    expect(budget.tryTake(5 * MiB)).toBe(true);
    const error = await rejection(testStorage({}, { bufferBudget: budget }).put(`${prefix}refused.ifc`, chunked(pattern(6 * MiB), MiB)));
    expect(error).toBeInstanceOf(UploadCapacityError);
    expect(await proxyRequests(prefix)).toEqual([]);
  });

  it("hands a failure of the source stream back as itself and aborts the upload", async () => {
    const prefix = uniquePrefix();
    const rejected = new ProblemError({ status: 413, slug: "payload-too-large", title: "Payload Too Large", detail: "too big" });
    const error = await rejection(testStorage().put(`${prefix}rejected.ifc`, failingBody(pattern(12 * MiB), 11 * MiB, rejected)));
    expect(error).toBe(rejected);
    const requests = await proxyRequests(prefix);
    expect(requests.map((r) => r.operation)).toContain("AbortMultipartUpload");
    expect((await pendingUploads(prefix)).pending).toEqual([]);
  });

  it("hands back a source failure in the first part without touching S3", async () => {
    const prefix = uniquePrefix();
    const gone = new TypeError("Network connection lost.");
    expect(await rejection(testStorage().put(`${prefix}gone.ifc`, failingBody(pattern(MiB), 1000, gone)))).toBe(gone);
    expect(await proxyRequests(prefix)).toEqual([]);
  });

  it("aborts when S3 reports an error inside a 200 answer to CompleteMultipartUpload", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "CompleteMultipartUpload", keyPrefix: prefix, status: 200, code: "InternalError", times: 1 });
    const error = await rejection(testStorage().put(`${prefix}complete.ifc`, chunked(pattern(6 * MiB), MiB)));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toContain("CompleteMultipartUpload failed: 200 InternalError");
    expect((await proxyRequests(prefix)).map((r) => r.operation)).toContain("AbortMultipartUpload");
    expect((await pendingUploads(prefix)).pending).toEqual([]);
  });

  it("logs, and does not throw over, an abort that fails", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "UploadPart", keyPrefix: prefix, status: 403, code: "AccessDenied", times: 1 });
    await injectFault({ operation: "AbortMultipartUpload", keyPrefix: prefix, status: 403, code: "AccessDenied", times: 1 });
    const error = await rejection(testStorage().put(`${prefix}stuck.ifc`, chunked(pattern(6 * MiB), MiB)));
    expect(error).toMatchObject({ code: "credentials", retryable: false });
    // The proxy still counts the upload as open: the abort was refused.
    expect((await pendingUploads(prefix)).pending).toHaveLength(1);
  });

  it("times out a call that gets no answer, retries it, then reports a timeout", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "HeadObject", keyPrefix: prefix, delayMs: 1000, times: 3 });
    const slept: number[] = [];
    const storage = testStorage({}, { timeouts: { requestMs: 100 }, sleep: async (ms) => void slept.push(ms), random: () => 0.5 });
    const error = await rejection(storage.head(`${prefix}slow.ifc`));
    expect(error).toMatchObject({ code: "timeout", retryable: true, message: "S3 HeadObject timed out" });
    expect(slept).toEqual([50, 100]);
  });

  it("times out a GetObject that does not start answering", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "GetObject", keyPrefix: prefix, delayMs: 1000, times: 3 });
    const storage = testStorage({}, { timeouts: { requestMs: 100 }, sleep: async () => undefined });
    expect(await rejection(storage.get(`${prefix}slow.ifc`))).toMatchObject({ code: "timeout" });
  });

  it("reports an unreachable store as unavailable after three attempts", async () => {
    let sleeps = 0;
    const storage = testStorage({ endpoint: "http://127.0.0.1:9" }, { sleep: async () => void sleeps++ });
    expect(await rejection(storage.head("anything"))).toMatchObject({ code: "unavailable", retryable: true });
    expect(sleeps).toBe(2);
  });

  it("asks the storage retry budget before each retry, naming timeouts as such", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "HeadObject", keyPrefix: prefix, delayMs: 1000, times: 3 });
    const asked: string[] = [];
    const spendRetry = async (kind: string) => asked.push(kind) > 0;
    const storage = testStorage({}, { timeouts: { requestMs: 100 }, sleep: async () => undefined, spendRetry });
    expect(await rejection(storage.head(`${prefix}slow.ifc`))).toMatchObject({ code: "timeout" });
    expect(asked).toEqual(["timeout", "timeout"]);

    let sleeps = 0;
    const unreachable = testStorage({ endpoint: "http://127.0.0.1:9" }, { sleep: async () => void sleeps++, spendRetry });
    await rejection(unreachable.head("anything"));
    expect(asked.slice(2)).toEqual(["retry", "retry"]);
    expect(sleeps).toBe(2);
  });

  it("gives up at once when the retry budget is empty", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "PutObject", keyPrefix: prefix, status: 503, code: "SlowDown", times: 3 });
    let asked = 0;
    const storage = testStorage({}, { sleep: async () => undefined, spendRetry: async () => ++asked < 0 });
    const key = `${prefix}throttled.ifc`;
    expect(await rejection(storage.put(key, chunked(pattern(1024))))).toMatchObject({ code: "throttled", retryable: true });
    expect(asked).toBe(1);
    expect((await proxyRequests(prefix)).filter((r) => r.operation === "PutObject")).toHaveLength(1);
  });

  it("ends a write when the caller's signal aborts, without retrying it", async () => {
    const prefix = uniquePrefix();
    await injectFault({ operation: "PutObject", keyPrefix: prefix, delayMs: 2000, times: 3 });
    let sleeps = 0;
    const storage = testStorage({}, { sleep: async () => void sleeps++ });
    const started = Date.now();
    const error = await rejection(storage.put(`${prefix}slow.ifc`, chunked(pattern(1024)), { signal: AbortSignal.timeout(100) }));
    expect(error).toMatchObject({ code: "timeout" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sleeps).toBe(0);
  });

  it("pings an existing bucket and tells a missing one or a bad secret apart", async () => {
    await testStorage().ping();
    expect(await rejection(testStorage({ bucket: "no-such-bucket-here" }).ping())).toMatchObject({ code: "missing-bucket", retryable: false });
    expect(await rejection(testStorage({ secretAccessKey: "wrong" }).ping())).toMatchObject({ code: "credentials", retryable: false });
    expect(await rejection(testStorage({ bucket: "no-such-bucket-here" }).get("x"))).toMatchObject({ code: "missing-bucket" });
  });

  it("refuses an unknown access key id with a credentials error", async () => {
    expect(await rejection(testStorage({ accessKeyId: "AKIAUNKNOWN" }).head("x"))).toMatchObject({ code: "credentials" });
  });
});

describe("S3 addressing", () => {
  it("goes path-style for a custom endpoint or when forced, virtual-hosted otherwise", () => {
    const base = { bucket: "models", region: "eu-central-1" };
    expect(bucketUrl({ ...base, endpoint: "http://127.0.0.1:9000/", forcePathStyle: false })).toBe("http://127.0.0.1:9000/models");
    expect(bucketUrl({ ...base, endpoint: undefined, forcePathStyle: true })).toBe("https://s3.eu-central-1.amazonaws.com/models");
    expect(bucketUrl({ ...base, endpoint: undefined, forcePathStyle: false })).toBe("https://models.s3.eu-central-1.amazonaws.com");
  });

  it("encodes keys as SigV4 expects (RFC 3986)", () => {
    expect(encodeRfc3986("a b(1)!*'.ifc")).toBe("a%20b%281%29%21%2A%27.ifc");
  });
});
