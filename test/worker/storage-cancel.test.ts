import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/storage/memory";
import { R2Storage } from "../../src/storage/r2";
import { injectFault, proxyRequests, testStorage } from "../support/s3";

const bucket = (): R2Bucket => {
  if (!env.MODELS) throw new Error("test environment has no MODELS binding");
  return env.MODELS;
};

/** A body that sends a little and then nothing, as a stuck producer would. */
const neverEnding = (): ReadableStream<Uint8Array> =>
  new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new Uint8Array(1024)),
    pull: () => new Promise<void>(() => undefined),
  });

/** The same, with a known length, as R2's single put needs. */
const neverEndingSized = (length: number): ReadableStream<Uint8Array> => {
  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  writer.write(new Uint8Array(1024)).catch(() => undefined);
  return readable;
};

const key = () => `cancel/${crypto.randomUUID()}/m.ifc`;

describe("storage calls can be cancelled", () => {
  it("gives each S3 GetObject retry a deadline of its own, so every attempt reaches the store", async () => {
    const prefix = key();
    const storage = testStorage({}, { timeouts: { requestMs: 300 }, sleep: async () => undefined });
    await storage.put(prefix, new Response("ISO-10303-21;").body ?? new ReadableStream(), { contentLength: 13 });
    // Every GET waits longer than the attempt's deadline.
    await injectFault({ operation: "GetObject", keyPrefix: prefix, delayMs: 1_000, times: 3 });
    const started = Date.now();
    await expect(storage.get(prefix)).rejects.toMatchObject({ code: "timeout" });
    // Three attempts, each given its 300 ms (a shared deadline ended attempts 2 and 3 at once).
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
    const gets = (await proxyRequests(prefix)).filter((request) => request.operation === "GetObject");
    expect(gets).toHaveLength(3);
  });

  it("stops an S3 GetObject, retries included, when the caller's signal aborts", async () => {
    const prefix = key();
    const storage = testStorage({}, { timeouts: { requestMs: 5_000 }, sleep: async () => undefined });
    await storage.put(prefix, new Response("ISO-10303-21;").body ?? new ReadableStream(), { contentLength: 13 });
    await injectFault({ operation: "GetObject", keyPrefix: prefix, delayMs: 3_000, times: 3 });
    const started = Date.now();
    await expect(storage.get(prefix, undefined, { signal: AbortSignal.timeout(200) })).rejects.toBeDefined();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await proxyRequests(prefix)).filter((request) => request.operation === "GetObject")).toHaveLength(1);
  });

  it("ends an R2 put of a body that stops sending when the signal aborts", async () => {
    const storage = new R2Storage(bucket());
    const reason = new Error("deadline passed");
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 100);
    const put = storage.put(key(), neverEndingSized(4096), { contentLength: 4096, signal: controller.signal });
    await expect(put).rejects.toBe(reason);
  });

  it("ends an R2 multipart put when the signal aborts", async () => {
    const storage = new R2Storage(bucket());
    const reason = new Error("deadline passed");
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 100);
    await expect(storage.put(key(), neverEnding(), { signal: controller.signal })).rejects.toBe(reason);
  });

  it("refuses reads with an aborted signal (R2 and memory)", async () => {
    const signal = AbortSignal.abort(new Error("gone"));
    await expect(new R2Storage(bucket()).get(key(), undefined, { signal })).rejects.toThrow("gone");
    await expect(new MemoryStorage().get(key(), undefined, { signal })).rejects.toThrow("gone");
  });
});
