import { describe, expect, it } from "vitest";
import type { JobView } from "../../src/jobs/record";
import type { ObjectStorage } from "../../src/storage/object-storage";
import { accepted, getJob, runAttempt, uniqueProject } from "../support/processing";
import { fixture, sha256Hex } from "../support/worker";

/** Storage whose model reads go through `body` (which may cut or hold the stream); the rest untouched. */
function readsThrough(body: (stream: ReadableStream<Uint8Array>, offset: number) => ReadableStream<Uint8Array>, opened: number[]): (base: ObjectStorage) => ObjectStorage {
  return (base) => ({
    driver: base.driver,
    put: (...args) => base.put(...args),
    head: (key) => base.head(key),
    delete: (key) => base.delete(key),
    ping: () => base.ping(),
    get: async (key, range) => {
      const object = await base.get(key, range);
      if (!object || key.endsWith("summary.json")) return object;
      opened.push(range?.offset ?? 0);
      return { ...object, body: body(object.body, range?.offset ?? 0) };
    },
  });
}

/** Passes `limit` bytes of the stream, then fails it as a dropped connection would. */
function cutAfter(limit: number): (stream: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> {
  return (stream) => {
    const reader = stream.getReader();
    let passed = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await reader.read();
        if (next.done) return controller.close();
        const room = limit - passed;
        if (room <= 0) {
          await reader.cancel();
          return controller.error(new Error("connection reset"));
        }
        controller.enqueue(next.value.subarray(0, room));
        passed += Math.min(room, next.value.byteLength);
      },
    });
  };
}

describe("the stream engine inside the job object", () => {
  it("resumes a read that fails part-way with a ranged read from the last byte, in the same attempt", async () => {
    const bytes = await fixture("duplex.ifc");
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, bytes, "duplex.ifc");
    const opened: number[] = [];
    let first = true;
    const storage = readsThrough((stream) => {
      if (!first) return stream;
      first = false;
      return cutAfter(1_000_000)(stream);
    }, opened);
    expect(await runAttempt(jobId, { storage, env: { PROCESSOR: "stream" } })).toBe(true);
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "succeeded", attempts: 1, summary: { entityCount: 38898 } });
    expect(job.summary?.file).toEqual({ size: bytes.byteLength, sha256: await sha256Hex(bytes) });
    expect(opened).toHaveLength(2);
    expect(opened[0]).toBe(0);
    expect(opened[1]).toBeGreaterThan(0);
    expect(opened[1]).toBeLessThanOrEqual(1_000_000);
  });

  it("gives the attempt up as storage_unavailable (retried later) when reads keep failing", async () => {
    const bytes = await fixture("example.ifc");
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, bytes, "example.ifc");
    const opened: number[] = [];
    const storage = readsThrough(() => new ReadableStream({ pull: (controller) => controller.error(new Error("connection reset")) }), opened);
    await runAttempt(jobId, { storage, env: { PROCESSOR: "stream", PROCESSING_MAX_ATTEMPTS: "2" } });
    const job = (await getJob(projectId, jobId)).body;
    expect(job).toMatchObject({ status: "processing", attempts: 1 });
    expect(job.nextAttemptAt).toBeDefined();
    expect(opened).toEqual([0, 0, 0, 0]);
  });

  it("shows progress {phase, bytesDone, bytesTotal} on the job while it reads, and none once done", async () => {
    const bytes = await fixture("duplex.ifc");
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, bytes, "duplex.ifc");
    let release: () => void = () => undefined;
    const held = new Promise<void>((done) => (release = done));
    // Holds the read after the first megabyte (in 64 KiB pieces) until the test has looked at the job.
    const storage = readsThrough((stream) => {
      const reader = stream.getReader();
      let pending: Uint8Array = new Uint8Array(0);
      let passed = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (passed >= 1_000_000) await held;
          if (pending.byteLength === 0) {
            const next = await reader.read();
            if (next.done) return controller.close();
            pending = next.value;
          }
          const piece = pending.subarray(0, 64 * 1024);
          pending = pending.subarray(piece.byteLength);
          passed += piece.byteLength;
          controller.enqueue(piece);
        },
      });
    }, []);
    const attempt = runAttempt(jobId, { storage, env: { PROCESSOR: "stream" } });
    let seen: JobView | undefined;
    for (let polls = 0; polls < 200 && !seen?.progress; polls++) {
      await new Promise((done) => setTimeout(done, 10));
      seen = (await getJob(projectId, jobId)).body;
    }
    release();
    expect(await attempt).toBe(true);
    expect(seen?.status).toBe("processing");
    expect(seen?.progress).toEqual({ phase: "reading", bytesDone: expect.any(Number), bytesTotal: bytes.byteLength });
    expect(seen?.progress?.bytesDone).toBeGreaterThan(0);
    expect(seen?.progress?.bytesDone).toBeLessThan(bytes.byteLength);
    const done = (await getJob(projectId, jobId)).body;
    expect(done.status).toBe("succeeded");
    expect(done.progress).toBeUndefined();
  });

  it("copies for web-ifc with progress too, then parses", async () => {
    const bytes = await fixture("example.ifc");
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, bytes, "example.ifc");
    expect(await runAttempt(jobId, { env: { PROCESSOR: "web-ifc" } })).toBe(true);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "succeeded", summary: { processor: { engine: "web-ifc" } } });
  });
});
