import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../setup/fault-proxy.ts";
import { OBJECT_STORE_CREDENTIALS, TEST_BUCKET, startObjectStore } from "../setup/object-store.ts";
import { TEST_JWT_SECRET } from "../support/constants.ts";
import { projectRoot } from "../support/node/dev-server.ts";

const run = promisify(execFile);

/**
 * Two Workers in one workerd process, both the production bundle (src/index.ts): "edge-b"
 * with memory storage hosts the Circuit objects; "edge-a" stores with the S3 adapter
 * (STORAGE_DRIVER=s3) through the fault proxy into s3rver, and binds CIRCUITS to edge-b's
 * objects (scriptName). Each Worker runs in its own V8 isolate with its own
 * module-level breaker cache, so whatever edge-b learns about a failure edge-a saw, it
 * learns from the Durable Object. Two `wrangler dev` sessions would not show this: they
 * would each run their own objects, and a shared --persist-to folder is not shared live.
 */
/** The bundle wrangler wrote: its entry first, then the precompiled WASM it imports (web-ifc). */
function bundleModules(dir: string, entry: string): { type: "ESModule" | "CompiledWasm"; path: string }[] {
  const wasm = readdirSync(dir).filter((file) => file.endsWith(".wasm"));
  return [{ type: "ESModule", path: join(dir, entry) }, ...wasm.map((file) => ({ type: "CompiledWasm" as const, path: join(dir, file) }))];
}

describe("one storage breaker shared by two Worker isolates", () => {
  let mf: Miniflare;
  let proxy: FaultProxy;
  let store: { url: string; close(): Promise<void> };
  let out: string;
  let token: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "two-isolates-"));
    const wrangler = join(projectRoot, "node_modules/.bin/wrangler");
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
    await run(wrangler, ["deploy", "--dry-run", "--env", "test", "--outdir", out], { cwd: projectRoot, env });
    store = await startObjectStore();
    proxy = await startFaultProxy(store.url);
    const bindings = {
      ENVIRONMENT: "test",
      STORAGE_DRIVER: "memory",
      LOG_LEVEL: "error",
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      BREAKER_RESET_MS: "2000",
      STORAGE_TIMEOUT_MS: "1000",
      // The jobs of accepted uploads would read edge-b's memory storage, a store other than
      // edge-a's, under the same storage breaker (which is shared on purpose): keep them an hour out.
      PROCESSING_START_DELAY_MS: "3600000",
    };
    // Miniflare 5 takes its own option shape; the v4 one (used here) converts to it.
    mf = new Miniflare(
      convertV4MiniflareOptions({
      workers: [
        {
          name: "edge-b",
          modules: bundleModules(out, "index.js"),
          modulesRoot: out,
          compatibilityDate: "2026-11-01",
          bindings,
          durableObjects: {
            JOBS: { className: "JobObject", useSQLite: true },
            PROJECTS: { className: "ProjectObject", useSQLite: true },
            CIRCUITS: { className: "CircuitObject", useSQLite: true },
          },
        },
        {
          name: "edge-a",
          modules: bundleModules(out, "index.js"),
          modulesRoot: out,
          compatibilityDate: "2026-11-01",
          bindings: {
            ...bindings,
            STORAGE_DRIVER: "s3",
            S3_ENDPOINT: proxy.url,
            S3_BUCKET: TEST_BUCKET,
            S3_FORCE_PATH_STYLE: "true",
            AWS_REGION: OBJECT_STORE_CREDENTIALS.region,
            AWS_ACCESS_KEY_ID: OBJECT_STORE_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: OBJECT_STORE_CREDENTIALS.secretAccessKey,
            // No inline retries (an empty budget), so edge-a's five failures fit into the second
            // for which edge-b may act on its cached view.
            RETRY_BUDGET_TOKENS: "0",
          },
          durableObjects: {
            JOBS: { className: "JobObject", scriptName: "edge-b", useSQLite: true },
            PROJECTS: { className: "ProjectObject", scriptName: "edge-b", useSQLite: true },
            CIRCUITS: { className: "CircuitObject", scriptName: "edge-b", useSQLite: true },
          },
        },
      ],
      }),
    );
    await mf.ready;
    const { sign } = await import("hono/jwt");
    const now = Math.floor(Date.now() / 1000);
    token = await sign({ sub: "e2e", projects: ["*"], exp: now + 600 }, TEST_JWT_SECRET, "HS256");
  });

  afterAll(async () => {
    await mf?.dispose();
    await proxy?.close();
    await store?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const model = new TextEncoder().encode(
    "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nFILE_NAME('m.ifc','2026-11-29T00:00:00',(''),(''),'','','');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',$,'P',$,$,$,$,$,$);\nENDSEC;\nEND-ISO-10303-21;\n",
  );

  async function upload(worker: "edge-a" | "edge-b"): Promise<{ status: number; type?: string; ms: number; retryAfter: string | null }> {
    const fetcher = await mf.getWorker(worker);
    const started = performance.now();
    const response = await fetcher.fetch("http://edge.test/v1/projects/demo/models?filename=m.ifc", {
      method: "POST",
      body: model,
      headers: { authorization: `Bearer ${token}` },
    });
    const ms = performance.now() - started;
    const text = await response.text();
    const type = response.status === 202 ? undefined : (JSON.parse(text) as { type: string }).type;
    return { status: response.status, type, ms, retryAfter: response.headers.get("retry-after") };
  }

  it("turns uploads away in the other isolate within a second of the fifth failure, and closes for both", async () => {
    // edge-b caches "closed" now: from here on it would admit from its own cache for a second.
    expect((await upload("edge-b")).status).toBe(202);
    const cachedAt = performance.now();

    proxy.set({ mode: "503" });
    for (let i = 0; i < 5; i++) expect(await upload("edge-a")).toMatchObject({ status: 503, type: expect.stringMatching(/storage-unavailable$/) });
    expect(await upload("edge-a")).toMatchObject({ status: 503, type: expect.stringMatching(/circuit-open$/) });
    expect(proxy.stats().byMethod.PUT).toBe(5);

    // Separate isolates: edge-b's cache has not seen edge-a's failures; it still admits...
    const stillCached = await upload("edge-b");
    expect(performance.now() - cachedAt).toBeLessThan(1000);
    expect(stillCached.status).toBe(202);

    // ...until its cached view expires and it asks the shared object.
    await new Promise((done) => setTimeout(done, 1000 - (performance.now() - cachedAt) + 20));
    const turnedAway = await upload("edge-b");
    expect(turnedAway).toMatchObject({ status: 503, type: expect.stringMatching(/circuit-open$/) });
    expect(Number(turnedAway.retryAfter)).toBeGreaterThanOrEqual(1);
    const fast: number[] = [];
    for (let i = 0; i < 20; i++) {
      const again = await upload("edge-b");
      expect(again.type).toMatch(/circuit-open$/);
      fast.push(again.ms);
    }
    fast.sort((x, y) => x - y);
    console.log(
      `edge-b 503 circuit-open, measured from Node: first (asks the object) ${turnedAway.ms.toFixed(1)} ms; cached p50 ${fast[10]?.toFixed(1)} ms, max ${fast[19]?.toFixed(1)} ms`,
    );
    // Measured from Node through Miniflare's HTTP dispatch while the workerd suite runs beside
    // it, so single outliers are the machine's; the typical turn-away must stay under 50 ms.
    expect(fast[10]).toBeLessThan(50);

    const edgeB = await mf.getWorker("edge-b");
    const ready = await edgeB.fetch("http://edge.test/readyz", { headers: { authorization: `Bearer ${token}` } });
    expect(ready.status).toBe(503);

    // After the reset, edge-b (healthy memory storage) probes and closes the breaker for everyone.
    proxy.set({ mode: "pass" });
    await new Promise((done) => setTimeout(done, 2000));
    expect((await upload("edge-b")).status).toBe(202);
    await new Promise((done) => setTimeout(done, 1000));
    expect((await upload("edge-a")).status).toBe(202);

    const ops = await edgeB.fetch("http://edge.test/v1/ops/circuits", { headers: { authorization: `Bearer ${token}` } });
    const body = (await ops.json()) as { circuits: { key: string; state: string; counters: { failures: number; opened: number } }[] };
    expect(body.circuits.find((c) => c.key === "storage")).toMatchObject({ state: "closed", counters: { failures: 5, opened: 1 } });
  });
});
