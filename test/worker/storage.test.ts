import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BufferBudget, UploadCapacityError } from "../../src/storage/buffer-budget";
import { MemoryStorage } from "../../src/storage/memory";
import type { ObjectStorage } from "../../src/storage/object-storage";
import { StorageError } from "../../src/storage/object-storage";
import { fixedSizeParts } from "../../src/storage/parts";
import { R2Storage } from "../../src/storage/r2";
import { concatenate, failingStream, streamOf } from "../support/streams";

const text = async (body: ReadableStream<Uint8Array>) => new Response(body).text();
const bucket = (): R2Bucket => {
  if (!env.MODELS) throw new Error("test environment has no MODELS binding");
  return env.MODELS;
};

const adapters: [string, () => ObjectStorage][] = [
  ["memory", () => new MemoryStorage()],
  ["r2", () => new R2Storage(bucket())],
  ["r2 with multipart parts", () => new R2Storage(bucket(), 5 * 1024 * 1024)],
];

describe.each(adapters)("%s storage", (_name, make) => {
  const key = () => `unit/${crypto.randomUUID()}/model.ifc`;

  it("stores a stream and reads it back whole and by range", async () => {
    const storage = make();
    const k = key();
    const enc = new TextEncoder();
    expect(await storage.put(k, streamOf(enc.encode("hello "), enc.encode("world")))).toEqual({ key: k, size: 11 });
    expect(await storage.head(k)).toEqual({ key: k, size: 11 });
    const whole = await storage.get(k);
    expect(whole && (await text(whole.body))).toBe("hello world");
    const part = await storage.get(k, { offset: 6, length: 3 });
    expect(part && (await text(part.body))).toBe("wor");
    const tail = await storage.get(k, { offset: 6 });
    expect(tail && (await text(tail.body))).toBe("world");
  });

  it("answers null for a missing object and deletes idempotently", async () => {
    const storage = make();
    const k = key();
    expect(await storage.get(k)).toBeNull();
    expect(await storage.head(k)).toBeNull();
    await storage.put(k, streamOf(new Uint8Array([1])));
    await storage.delete(k);
    await storage.delete(k);
    expect(await storage.head(k)).toBeNull();
    await storage.ping();
  });

  it("keeps nothing when the source stream fails, and surfaces the source's error", async () => {
    const storage = make();
    const k = key();
    const cause = new Error("client went away");
    await expect(storage.put(k, failingStream(cause))).rejects.toBe(cause);
    expect(await storage.head(k)).toBeNull();
  });
});

describe("R2 storage", () => {
  it("hands a stream of known length up to one part to a single put", async () => {
    const storage = new R2Storage(bucket());
    const k = `unit/${crypto.randomUUID()}`;
    const sized = new FixedLengthStream(5);
    const writer = sized.writable.getWriter();
    const written = writer.write(new TextEncoder().encode("12345")).then(() => writer.close());
    expect(await storage.put(k, sized.readable, { contentLength: 5 })).toEqual({ key: k, size: 5 });
    await written;
    expect(await (await bucket().get(k))?.text()).toBe("12345");
  });

  it("uploads a body of unknown length in equal parts and reassembles it byte for byte", async () => {
    const storage = new R2Storage(bucket(), 5 * 1024 * 1024);
    const k = `unit/${crypto.randomUUID()}`;
    // Every MiB differs, so a part buffer filled again too early would show in the object.
    const chunks = Array.from({ length: 11 }, (_, n) => new Uint8Array(1024 * 1024).map((_, i) => (i + n * 7) % 251));
    expect(await storage.put(k, streamOf(...chunks))).toEqual({ key: k, size: 11 * 1024 * 1024 });
    const stored = new Uint8Array((await (await bucket().get(k))?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(stored).toEqual(concatenate(chunks));
  });

  it("uploads a body of known length above one part as a multipart upload", async () => {
    const k = `unit/${crypto.randomUUID()}`;
    const chunks = Array.from({ length: 12 }, (_, n) => new Uint8Array(1024 * 1024).map((_, i) => (i * 3 + n) % 253));
    const called: string[] = [];
    const watched = new Proxy(bucket(), {
      get(target, name, receiver) {
        const member: unknown = Reflect.get(target, name, receiver);
        if (typeof member !== "function") return member;
        return (...args: unknown[]) => {
          called.push(String(name));
          return Reflect.apply(member, target, args) as unknown;
        };
      },
    });
    const sized = new R2Storage(watched, 5 * 1024 * 1024);
    expect(await sized.put(k, streamOf(...chunks), { contentLength: 12 * 1024 * 1024 })).toEqual({ key: k, size: 12 * 1024 * 1024 });
    expect(called).toEqual(["createMultipartUpload"]);
    const stored = new Uint8Array((await (await bucket().get(k))?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(stored).toEqual(concatenate(chunks));
  });

  it("stores a body below one part by its bound, within a budget smaller than a part", async () => {
    const budget = new BufferBudget(1024 * 1024);
    const storage = new R2Storage(bucket(), 5 * 1024 * 1024, budget);
    const k = `unit/${crypto.randomUUID()}`;
    const chunks = [new Uint8Array(200_000).fill(7), new Uint8Array(100_000).fill(9)];
    expect(await storage.put(k, streamOf(...chunks), { maxLength: 400_000 })).toEqual({ key: k, size: 300_000 });
    expect(budget.freeBytes).toBe(1024 * 1024);
    const stored = new Uint8Array((await (await bucket().get(k))?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(stored).toEqual(concatenate(chunks));
  });

  it("rethrows the source stream's own error from a body read by its bound", async () => {
    const storage = new R2Storage(bucket(), 5 * 1024 * 1024, new BufferBudget(1024 * 1024));
    const cause = new Error("client went away");
    await expect(storage.put(`unit/${crypto.randomUUID()}`, failingStream(cause), { maxLength: 1000 })).rejects.toBe(cause);
  });

  it("refuses an upload when the isolate's budget has no part left, and stores nothing", async () => {
    const budget = new BufferBudget(5 * 1024 * 1024);
    expect(budget.tryTake(1)).toBe(true);
    const k = `unit/${crypto.randomUUID()}`;
    const error = await new R2Storage(bucket(), 5 * 1024 * 1024, budget).put(k, streamOf(new Uint8Array(10))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadCapacityError);
    expect(await bucket().head(k)).toBeNull();
  });

  it("stores an empty body of unknown length", async () => {
    const storage = new R2Storage(bucket());
    const k = `unit/${crypto.randomUUID()}`;
    expect(await storage.put(k, streamOf())).toEqual({ key: k, size: 0 });
  });

  it("rethrows the source stream's own error from a multipart upload", async () => {
    const storage = new R2Storage(bucket());
    const cause = new Error("client went away");
    await expect(storage.put(`unit/${crypto.randomUUID()}`, failingStream(cause))).rejects.toBe(cause);
  });

  it("wraps a failing bucket call as a retryable storage error", async () => {
    const broken = { list: () => Promise.reject(new Error("socket hang up")) } as unknown as R2Bucket;
    const error = await new R2Storage(broken).ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ retryable: true, message: "R2 list failed" });
  });
});

describe("fixedSizeParts", () => {
  it("regroups chunks into parts of exactly the part size, the last one shorter", async () => {
    const sizes: number[] = [];
    for await (const part of fixedSizeParts(streamOf(new Uint8Array(7), new Uint8Array(2), new Uint8Array(6)), 4)) {
      sizes.push(part.byteLength);
    }
    expect(sizes).toEqual([4, 4, 4, 3]);
  });
});
