import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/log";
import { ProblemError } from "../../src/lib/problem";
import { type UploadDeps, processIfcUpload } from "../../src/ingest/process-ifc-upload";
import type { JobDirectory } from "../../src/jobs/client";
import { CircuitOpenError } from "../../src/resilience/errors";
import { CircuitClient } from "../../src/circuits/client";
import { MemoryStorage } from "../../src/storage/memory";
import { BufferBudget } from "../../src/storage/buffer-budget";
import { StorageError } from "../../src/storage/object-storage";
import { R2_PART_SIZE, R2Storage } from "../../src/storage/r2";
// streamOf: of unknown length, as a multipart file is, so R2 writes it as a multipart upload.
import { DEFAULT_POLICY } from "../support/policy";
import { byteStream, streamOf } from "../support/streams";
import { fixture } from "../support/worker";

const policy = DEFAULT_POLICY;

const noJobs: JobDirectory = {
  reserve: async () => ({ state: "reserved" }),
  release: async () => undefined,
  accept: async () => undefined,
  get: async () => null,
  forget: async () => undefined,
};

function deps(storage: MemoryStorage, client: CircuitClient, extra: Partial<UploadDeps> = {}): UploadDeps {
  return {
    storage,
    jobs: noJobs,
    log: createLogger("error"),
    maxUploadBytes: 1_000_000,
    now: () => new Date(),
    guardStorage: (call, classify) => client.guard("storage", call, { classify, timeoutMs: 200 }),
    cleanupTimeoutMs: 50,
    ...extra,
  };
}

const modelsBucket = (): R2Bucket => {
  if (!env.MODELS) throw new Error("test environment has no MODELS binding");
  return env.MODELS;
};

const target = () => ({ projectId: "demo", jobId: crypto.randomUUID(), requestId: "r" });

describe("processIfcUpload behind the storage breaker", () => {
  it("refuses without reading the body when its own admission finds the breaker open", async () => {
    const scope = `pu-${crypto.randomUUID()}/`;
    const stub = env.CIRCUITS.get(env.CIRCUITS.idFromName(`${scope}storage`));
    for (let i = 0; i < 5; i++) await stub.report({ key: "storage", policy }, { outcome: "failure", latencyMs: 1, probe: false }, Date.now());
    const client = new CircuitClient({ namespace: env.CIRCUITS, policy, scope });
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
    const storage = new MemoryStorage();
    await expect(processIfcUpload(deps(storage, client), target(), { name: "a.ifc", body })).rejects.toBeInstanceOf(CircuitOpenError);
    expect(cancelled).toBe(true);
    expect(storage.keys()).toEqual([]);
  });

  it("answers 503 storage-unavailable when storage fails and even the clean-up fails", async () => {
    const client = new CircuitClient({ namespace: env.CIRCUITS, policy, scope: `pu-${crypto.randomUUID()}/` });
    const storage = new MemoryStorage();
    storage.put = async () => {
      throw new StorageError("store down", true);
    };
    storage.delete = async () => {
      throw new StorageError("store still down", true);
    };
    const bytes = await fixture("test.ifc");
    const failure = processIfcUpload(deps(storage, client), target(), { name: "a.ifc", body: byteStream(bytes) });
    await expect(failure).rejects.toBeInstanceOf(ProblemError);
    await expect(failure).rejects.toMatchObject({ status: 503, slug: "storage-unavailable" });
  });

  it("gives up a clean-up that hangs after its bound", async () => {
    const client = new CircuitClient({ namespace: env.CIRCUITS, policy, scope: `pu-${crypto.randomUUID()}/` });
    const storage = new MemoryStorage();
    storage.put = () => new Promise<never>(() => undefined);
    storage.delete = () => new Promise<never>(() => undefined);
    const started = Date.now();
    // A header that never completes: the inspection waits for more while storage hangs.
    const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("ISO-10303-21;\nHEADER;")) });
    const failure = processIfcUpload(deps(storage, client), target(), { name: "a.ifc", body });
    await expect(failure).rejects.toMatchObject({ status: 503, slug: "storage-unavailable" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("answers 503 upload-capacity when the isolate's buffers are spent, without counting it against storage", async () => {
    const client = new CircuitClient({ namespace: env.CIRCUITS, policy, scope: `pu-${crypto.randomUUID()}/` });
    const budget = new BufferBudget(R2_PART_SIZE);
    const storage = new R2Storage(modelsBucket(), R2_PART_SIZE, budget);
    const bytes = await fixture("test.ifc");
    expect(budget.tryTake(R2_PART_SIZE)).toBe(true);
    // More refusals than the breaker's threshold: had they counted, the breaker would be open.
    for (let i = 0; i < 6; i++) {
      const refused = processIfcUpload(deps(new MemoryStorage(), client, { storage }), target(), { name: "a.ifc", body: streamOf(bytes) });
      await expect(refused).rejects.toMatchObject({ status: 503, slug: "upload-capacity", headers: { "Retry-After": "2" } });
    }
    budget.give(R2_PART_SIZE);
    const accepted = await processIfcUpload(deps(new MemoryStorage(), client, { storage }), target(), { name: "a.ifc", body: streamOf(bytes) });
    expect(accepted.file.size).toBe(bytes.byteLength);
    expect(budget.freeBytes).toBe(R2_PART_SIZE);
  });

  describe("no orphans when the job cannot be recorded", () => {
    /** A named double: a job object that fails to record cannot be caused with the real one. */
    const failingJobs = (recorded: boolean): JobDirectory => ({
      ...noJobs,
      accept: async () => {
        throw new Error("job object overloaded");
      },
      get: async () => (recorded ? ({ jobId: "x" } as never) : null),
    });

    it("removes the stored model and answers a 503 the client can retry", async () => {
      const client = new CircuitClient({ namespace: env.CIRCUITS, policy, scope: `pu-${crypto.randomUUID()}/` });
      const storage = new MemoryStorage();
      const bytes = await fixture("test.ifc");
      const failure = processIfcUpload(deps(storage, client, { jobs: failingJobs(false) }), target(), { name: "a.ifc", body: streamOf(bytes) });
      await expect(failure).rejects.toMatchObject({ status: 503, slug: "job-unavailable", headers: { "Retry-After": "5" } });
      expect(storage.keys()).toEqual([]);
    });

    it("uses the job when it was recorded and only the answer was lost", async () => {
      const client = new CircuitClient({ namespace: env.CIRCUITS, policy, scope: `pu-${crypto.randomUUID()}/` });
      const storage = new MemoryStorage();
      const bytes = await fixture("test.ifc");
      const accepted = await processIfcUpload(deps(storage, client, { jobs: failingJobs(true) }), target(), { name: "a.ifc", body: streamOf(bytes) });
      expect(accepted.status).toBe("queued");
      expect(storage.keys()).toHaveLength(1);
    });
  });
});
