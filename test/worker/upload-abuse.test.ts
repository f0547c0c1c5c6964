import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProblemBody } from "../../src/lib/problem";
import type { CircuitSnapshot } from "../../src/resilience/circuit-state";
import { isolateUploadSlots } from "../../src/ingest/upload-slots";
import { isolateBufferBudget } from "../../src/storage/buffer-budget";
import { scopedApp, type ScopedApp } from "../support/scoped-app";
import { api, fixture, token, uniqueProject } from "../support/worker";

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Sends `head` at once, then the rest of `bytes` in `step`-byte pieces every `everyMs` (none: stalls). */
function trickle(bytes: Uint8Array, headBytes: number, options: { step?: number; everyMs?: number; breakAfter?: number } = {}): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at === 0) {
        controller.enqueue(bytes.slice(0, headBytes));
        at = headBytes;
        return;
      }
      if (options.breakAfter !== undefined && at >= options.breakAfter) {
        controller.error(new Error("connection reset by peer"));
        return;
      }
      if (options.everyMs === undefined) return new Promise<void>(() => undefined);
      await sleep(options.everyMs);
      if (at >= bytes.byteLength) return controller.close();
      const step = options.step ?? 1024;
      controller.enqueue(bytes.slice(at, at + step));
      at += step;
    },
  });
}

async function post(app: ScopedApp, projectId: string, body: ReadableStream<Uint8Array> | Uint8Array, headers: Record<string, string>, overrides: Record<string, string>): Promise<Response> {
  const request = new Request(api(`/v1/projects/${projectId}/models?filename=m.ifc`), {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${await token([projectId])}`, ...headers },
    duplex: "half",
  } as RequestInit);
  return app.fetch(request, overrides);
}

async function storageCircuit(app: ScopedApp): Promise<CircuitSnapshot> {
  await app.settled();
  const policy = { breaker: { failureThreshold: 5, resetMs: 60_000 }, budget: { maxTokens: 500, retryCost: 5, timeoutCost: 10, successRefund: 1 } };
  return app.circuit("storage").snapshot({ key: "storage", policy }, Date.now());
}

describe("slow and broken clients are their own fault", () => {
  const quick = { UPLOAD_IDLE_TIMEOUT_MS: "200", STORAGE_TIMEOUT_MS: "300" };

  it("answers 408 upload-stalled to bodies that stop sending, and the storage breaker stays closed", async () => {
    const app = scopedApp();
    const model = await fixture("test.ifc");
    for (let i = 0; i < 6; i++) {
      const response = await post(app, uniqueProject(), trickle(model, 4096), {}, quick);
      expect(response.status).toBe(408);
      const problem = (await response.json()) as ProblemBody;
      expect(problem.type).toMatch(/upload-stalled$/);
    }
    const circuit = await storageCircuit(app);
    expect(circuit.state).toBe("closed");
    expect(circuit.counters.failures + circuit.counters.timeouts).toBe(0);
    expect((await post(app, uniqueProject(), model, { "content-length": String(model.byteLength) }, quick)).status).toBe(202);
  });

  it("accepts a body that trickles in for far longer than the storage deadline, as long as it never goes quiet", async () => {
    const app = scopedApp();
    const model = await fixture("test.ifc");
    // About 1.6 s in all, 100 ms between pieces: five times STORAGE_TIMEOUT_MS, never idle for 200 ms.
    const response = await post(app, uniqueProject(), trickle(model, 4096, { step: 1024, everyMs: 100 }), {}, quick);
    expect(response.status).toBe(202);
    expect((await storageCircuit(app)).counters.timeouts).toBe(0);
  });

  it("answers 408 to a multipart body that stalls inside the form, before the file", async () => {
    const app = scopedApp();
    const form = encoder.encode(`--b\r\ncontent-disposition: form-data; name="note"\r\n\r\n${"x".repeat(5000)}`);
    const response = await post(app, uniqueProject(), trickle(form, 1000), { "content-type": "multipart/form-data; boundary=b" }, quick);
    expect(response.status).toBe(408);
  });

  it("answers 400 upload-interrupted to a small R2 upload whose body breaks off, not counting it against storage", async () => {
    const app = scopedApp();
    const model = await fixture("duplex.ifc");
    const small = model.slice(0, 2 * 1024 * 1024);
    for (let i = 0; i < 6; i++) {
      const body = trickle(small, 128 * 1024, { step: 64 * 1024, everyMs: 1, breakAfter: 512 * 1024 });
      const response = await post(app, uniqueProject(), body, { "content-length": String(small.byteLength) }, { STORAGE_DRIVER: "r2" });
      expect(response.status).toBe(400);
      expect(((await response.json()) as ProblemBody).type).toMatch(/upload-interrupted$/);
    }
    const circuit = await storageCircuit(app);
    expect(circuit.state).toBe("closed");
    expect(circuit.counters.failures).toBe(0);
  });
});

describe("upload memory is counted and uploads are capped per isolate", () => {
  it("answers 503 upload-capacity with Retry-After once the isolate runs its most uploads at once", async () => {
    const app = scopedApp();
    const max = 3;
    const settings = { MAX_CONCURRENT_UPLOADS: String(max), UPLOAD_IDLE_TIMEOUT_MS: "5000" };
    const model = await fixture("test.ifc");
    const gates: (() => void)[] = [];
    // Three uploads that hold their slot until released.
    const held = Array.from({ length: max }, () => {
      let open: () => void = () => undefined;
      const opened = new Promise<void>((done) => (open = done));
      gates.push(open);
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent) {
            await opened;
            controller.close();
            return;
          }
          sent = true;
          controller.enqueue(model);
        },
      });
      return post(app, uniqueProject(), body, {}, settings);
    });
    await sleep(100);
    expect(isolateUploadSlots(max).used).toBe(max);
    const refused = await post(app, uniqueProject(), model, { "content-length": String(model.byteLength) }, settings);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(((await refused.json()) as ProblemBody).type).toMatch(/upload-capacity$/);
    for (const open of gates) open();
    for (const response of await Promise.all(held)) expect(response.status).toBe(202);
    expect(isolateUploadSlots(max).used).toBe(0);
    expect((await post(app, uniqueProject(), model, { "content-length": String(model.byteLength) }, settings)).status).toBe(202);
  });

  it("counts the pump's blocks and the multipart scan buffer against UPLOAD_BUFFER_BYTES", async () => {
    const app = scopedApp();
    // A budget of its own size: one part and one large upload's blocks, plus a little.
    const total = 11 * 1024 * 1024 + 8192;
    const settings = { STORAGE_DRIVER: "r2", UPLOAD_BUFFER_BYTES: String(total), UPLOAD_IDLE_TIMEOUT_MS: "5000" };
    const budget = isolateBufferBudget(total);
    const model = await fixture("test.ifc");
    // Everything but 100 KiB is held elsewhere: a small raw upload needs two 64 KiB blocks.
    expect(budget.tryTake(total - 100 * 1024)).toBe(true);
    try {
      const refused = await post(app, uniqueProject(), model, { "content-length": String(model.byteLength) }, settings);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as ProblemBody).type).toMatch(/upload-capacity$/);
      budget.give(64 * 1024);
      const accepted = await post(app, uniqueProject(), model, { "content-length": String(model.byteLength) }, settings);
      expect(accepted.status).toBe(202);
      // Everything the upload held went back.
      expect(budget.freeBytes).toBe(164 * 1024);
    } finally {
      budget.give(total);
    }
    expect(env.MODELS).toBeDefined();
  });
});
