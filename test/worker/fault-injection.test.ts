import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { CircuitSnapshot } from "../../src/resilience/circuit-state";
import { policyWith } from "../support/policy";
import { expectProblem } from "../support/problem";
import { scopedApp, type ScopedApp } from "../support/scoped-app";
import { peer, s3Overrides, testStorage } from "../support/s3";
import { api, bearer, sha256Hex } from "../support/worker";

/**
 * The Worker against a real S3-API store (s3rver) through a fault-injecting proxy, both
 * started in Node by the global setup. Storage is the production S3 adapter
 * (src/storage/s3.ts, chosen by STORAGE_DRIVER=s3) pointed at the proxy: the whole upload
 * path is the production one, inline retries and retry budget included. s3rver knows one
 * account (the peer's key id) and bucket, as in test/setup/object-store.ts.
 */
const BUCKET = "ifc-models-test";
/** Tries per S3 call: the first and two inline retries (src/storage/s3.ts), each asked of the budget. */
const TRIES = 3;
const settings = s3Overrides({ S3_ENDPOINT: env.FAULT_PROXY_URL, S3_BUCKET: BUCKET, S3_FORCE_PATH_STYLE: "true", BREAKER_RESET_MS: "1000", STORAGE_TIMEOUT_MS: "500" });
const policy = policyWith({ breaker: { resetMs: 1000 } });

type FaultMode = "pass" | "refuse" | "hang" | "503" | "cut";
interface ProxyStats {
  connections: number;
  requests: number;
  byMethod: Record<string, number>;
  byFault: Record<FaultMode, number>;
}

async function control(path: string, init: RequestInit = {}): Promise<ProxyStats> {
  const response = await fetch(`${env.FAULT_CONTROL_URL}${path}`, init);
  if (!response.ok) throw new Error(`fault proxy ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as ProxyStats;
}

const fault = (mode: FaultMode | "random", extra: { weights?: Partial<Record<FaultMode, number>>; seed?: number } = {}) =>
  control("/mode", { method: "PUT", body: JSON.stringify({ mode, ...extra }) });
const proxyStats = () => control("/stats");
const resetProxyStats = () => control("/stats/reset", { method: "POST" });
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A valid IFC4 STEP file of about `size` bytes whose content depends on `seed`. */
function ifcModel(seed: number, size = 16 * 1024): Uint8Array {
  const head = `ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\nFILE_NAME('m${seed}.ifc','2026-11-29T00:00:00',(''),(''),'fault-suite','','');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n`;
  const lines: string[] = [head];
  let length = head.length;
  for (let i = 1; length < size; i++) {
    const line = `#${i}=IFCCARTESIANPOINT((${seed}.${i},${(seed * 31 + i) % 997}.5,${i % 13}.25));\n`;
    lines.push(line);
    length += line.length;
  }
  lines.push("ENDSEC;\nEND-ISO-10303-21;\n");
  return new TextEncoder().encode(lines.join(""));
}

interface Accepted {
  jobId: string;
  projectId: string;
  file: { name: string; size: number; sha256: string };
}

describe("storage faults through a real S3 peer", () => {
  let app: ScopedApp;
  // Reads back past the proxy, straight from s3rver.
  const direct = testStorage({ endpoint: env.OBJECT_STORE_URL, bucket: BUCKET, region: peer.region });
  const projectId = `fault-${crypto.randomUUID().slice(0, 8)}`;

  beforeEach(async () => {
    app = scopedApp();
    await fault("pass");
    await resetProxyStats();
  });

  const uploadModel = async (bytes: Uint8Array) =>
    app.fetch(
      new Request(api(`/v1/projects/${projectId}/models?filename=model.ifc`), {
        method: "POST",
        body: bytes,
        headers: await bearer([projectId]),
      }),
      settings,
    );

  const snapshot = async (): Promise<CircuitSnapshot> => {
    await app.settled();
    return app.circuit("storage").snapshot({ key: "storage", policy }, Date.now());
  };

  async function readBack(accepted: Accepted): Promise<string | null> {
    const object = await direct.get(`projects/${accepted.projectId}/models/${accepted.jobId}/${accepted.file.name}`);
    return object ? sha256Hex(new Uint8Array(await new Response(object.body).arrayBuffer())) : null;
  }

  it("stores uploads through the proxy while the peer is healthy", async () => {
    const bytes = ifcModel(1);
    const response = await uploadModel(bytes);
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as Accepted;
    expect(await readBack(accepted)).toBe(await sha256Hex(bytes));
    expect((await proxyStats()).byMethod.PUT).toBe(1);
  });

  it("opens after exactly five failed uploads, then answers 503 circuit-open without reaching the proxy", async () => {
    await fault("503");
    for (let i = 1; i <= 5; i++) {
      const response = await uploadModel(ifcModel(i));
      await expectProblem(response, 503, "storage-unavailable");
      // The adapter retries each PutObject inline, but the breaker counts the upload once.
      expect((await proxyStats()).byMethod.PUT).toBe(TRIES * i);
      if (i === 4) expect((await snapshot()).state).toBe("closed");
    }
    const opened = await snapshot();
    expect(opened).toMatchObject({ state: "open", counters: { failures: 5, opened: 1 } });
    // Every inline retry was paid for from the storage budget (the clean-up's deletes retry too).
    expect(opened.counters.retriesAllowed).toBeGreaterThanOrEqual(5 * (TRIES - 1));
    expect(opened.retryBudget.tokens).toBeLessThanOrEqual(500 - 5 * (TRIES - 1) * 5);

    const before = await proxyStats();
    for (let i = 0; i < 10; i++) {
      const response = await uploadModel(ifcModel(100 + i));
      expect(Number(response.headers.get("retry-after"))).toBe(1);
      await expectProblem(response, 503, "circuit-open");
    }
    const after = await proxyStats();
    expect(after.requests).toBe(before.requests);
    // How fast that is belongs to the benchmarks; here, that nothing reached the peer.
    expect(after.connections).toBe(before.connections);
  });

  it("half-opens after the reset time and closes by itself once the peer recovers", async () => {
    await fault("refuse");
    for (let i = 0; i < 5; i++) expect((await uploadModel(ifcModel(i))).status).toBe(503);
    const openedAt = Date.now();
    expect((await snapshot()).state).toBe("open");

    await fault("pass");
    const early = await uploadModel(ifcModel(50));
    expect(Date.now() - openedAt).toBeLessThan(1000);
    expect(((await early.json()) as { type: string }).type).toMatch(/circuit-open$/);

    await sleep(1000 - (Date.now() - openedAt) + 20);
    expect((await snapshot()).state).toBe("half-open");
    const bytes = ifcModel(51);
    const probe = await uploadModel(bytes);
    expect(probe.status).toBe(202);
    expect(await readBack((await probe.json()) as Accepted)).toBe(await sha256Hex(bytes));
    expect((await snapshot()).state).toBe("closed");
    for (let i = 0; i < 3; i++) expect((await uploadModel(ifcModel(60 + i))).status).toBe(202);
  });

  it("opens again for another reset period when the half-open probe fails", async () => {
    await fault("503");
    for (let i = 0; i < 5; i++) await uploadModel(ifcModel(i));
    await sleep(1050);
    const probe = await uploadModel(ifcModel(9));
    expect(((await probe.json()) as { type: string }).type).toMatch(/storage-unavailable$/);
    expect(await snapshot()).toMatchObject({ state: "open", counters: { opened: 2 } });
    const next = await uploadModel(ifcModel(10));
    expect(((await next.json()) as { type: string }).type).toMatch(/circuit-open$/);
  });

  it("counts refused, hung, cut and 503 answers alike as storage failures", async () => {
    const modes: FaultMode[] = ["refuse", "hang", "cut", "503", "cut"];
    for (const mode of modes) {
      await fault(mode);
      const started = Date.now();
      const response = await uploadModel(ifcModel(7, 64 * 1024));
      expect(response.status, mode).toBe(503);
      expect(((await response.json()) as { type: string }).type, mode).toMatch(/storage-unavailable$/);
      // A hang ends at the storage deadline plus the bounded clean-up, not later.
      if (mode === "hang") expect(Date.now() - started).toBeLessThan(2000);
    }
    expect(await snapshot()).toMatchObject({ state: "open", counters: { failures: 4, timeouts: 1 } });
  });

  it("loses no accepted upload over 200 uploads with random faults and an outage", async () => {
    const chaos = { seed: 20261129, weights: { pass: 0.6, "503": 0.1, refuse: 0.1, cut: 0.12, hang: 0.08 } };
    await fault("random", chaos);
    const tally = { accepted: 0, storageUnavailable: 0, circuitOpen: 0, other: 0, lost: 0, verified: 0 };
    const accepted: { reply: Accepted; sha256: string }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < 200) {
        const n = next++;
        // A full outage in the middle of the run, so the breaker surely opens and recovers in it.
        if (n === 80) await fault("503");
        if (n === 110) await fault("random", { ...chaos, seed: chaos.seed + 1 });
        const bytes = ifcModel(1000 + n, 8 * 1024 + (n % 7) * 4096);
        const response = await uploadModel(bytes);
        if (response.status === 202) {
          tally.accepted++;
          accepted.push({ reply: (await response.json()) as Accepted, sha256: await sha256Hex(bytes) });
          continue;
        }
        const body = (await response.json()) as { type: string };
        if (response.status === 503 && body.type.endsWith("/circuit-open")) {
          tally.circuitOpen++;
          // A well-behaved client waits before retrying; keeps the run from draining while open.
          await sleep(150);
        } else if (response.status === 503 && body.type.endsWith("/storage-unavailable")) tally.storageUnavailable++;
        else tally.other++;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await fault("pass");
    for (const { reply, sha256 } of accepted) {
      expect(reply.file.sha256).toBe(sha256);
      const stored = await readBack(reply);
      if (stored === sha256) tally.verified++;
      else tally.lost++;
    }
    const stats = await proxyStats();
    console.log(`chaos run: ${JSON.stringify(tally)}; proxy faults ${JSON.stringify(stats.byFault)}`);
    expect(tally.accepted + tally.storageUnavailable + tally.circuitOpen).toBe(200);
    expect(tally.other).toBe(0);
    expect(tally.lost).toBe(0);
    expect(tally.verified).toBe(tally.accepted);
    expect(tally.accepted).toBeGreaterThan(40);
    expect(tally.circuitOpen).toBeGreaterThan(0);
    for (const mode of ["refuse", "hang", "cut", "503"] as const) expect(stats.byFault[mode]).toBeGreaterThan(0);
  }, 120_000);
});
