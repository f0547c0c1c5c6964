import { execFileSync } from "node:child_process";
import { mkdirSync, openAsBlob, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fixturesDir } from "../test/setup/fixture-server.ts";
import { type DevServer, devToken, freePort, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { largeModel } from "./large-model.ts";
import { IsolateInspector } from "./soak/inspector.ts";
import { type LoadCounters, newCounters, runLoad } from "./soak/load.ts";
import { type Receiver, startReceiver } from "./soak/receiver.ts";
import { type Sample, type SoakFigures, figures } from "./soak/stats.ts";
import { mib, printTable } from "./table.ts";

// Settings (environment variables); a few minutes by default.
const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 3);
const floorMinutes = Number(process.env.BENCH_SOAK_FLOOR_MINUTES ?? Math.min(minutes, 5));
/** A second floor that also writes one new Durable Object per upload, as a job does (0: left out). */
const recordFloorMinutes = Number(process.env.BENCH_SOAK_RECORD_FLOOR_MINUTES ?? 0);
const concurrency = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 8);
const generatedMb = process.env.BENCH_SOAK_MB === undefined ? undefined : Number(process.env.BENCH_SOAK_MB);
const fixture = process.env.BENCH_SOAK_MODEL ?? "example.ifc";
const sessionEvery = Number(process.env.BENCH_SOAK_SESSION_EVERY ?? 4);
const sampleMs = Number(process.env.BENCH_SOAK_SAMPLE_S ?? 10) * 1000;
const idleS = Number(process.env.BENCH_SOAK_IDLE_S ?? 90);
const label = process.env.BENCH_SOAK_LABEL;
/** Warm-up: a fifth of the run, at least 30 s and at most 2 min. */
const warmupOf = (runMinutes: number) => Math.max(30, Math.min(120, runMinutes * 12));

const PROJECT = "soak";
/** BENCH_SOAK_VARS="NAME=value,NAME=value": more settings for the service (e.g. PROCESSOR=web-ifc). */
const extraVars = Object.fromEntries(
  (process.env.BENCH_SOAK_VARS ?? "")
    .split(",")
    .filter((pair) => pair.includes("="))
    .map((pair) => [pair.slice(0, pair.indexOf("=")).trim(), pair.slice(pair.indexOf("=") + 1).trim()]),
);
const ingestVars = {
  LOG_LEVEL: "warn",
  PROCESSING_START_DELAY_MS: "0",
  WEBHOOK_DNS_RESOLVER: "off",
  WEBHOOK_ALLOW_PRIVATE: "true",
  ...extraVars,
};

type Kind = "floor" | "record-floor" | "ingest";
const floorConfigs: Record<Exclude<Kind, "ingest">, string> = {
  floor: "bench/baseline/wrangler.toml",
  "record-floor": "bench/baseline/record.wrangler.toml",
};

interface RunResult {
  target: Kind;
  minutes: number;
  warmupS: number;
  counters: Omit<LoadCounters, "jobIds" | "uploadMs" | "jobMs" | "unfinished"> & { unfinished: number; sessionsAvailable: boolean };
  webhooks?: { counts: Record<string, number>; rejected: number; processedJobsMissing: number };
  figures: SoakFigures;
  idle: { afterS: number; heap?: number; runtimeRss: number; proxyRss: number };
  uploadMsP50: number;
  jobMsP50?: number;
  samples: Sample[];
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function rssOf(server: DevServer): { runtime: number; proxy: number } {
  const runtimePid = server.workerdPid();
  let runtime = 0;
  let proxy = 0;
  for (const pid of server.workerdPids()) {
    try {
      if (pid === runtimePid) runtime = residentMemory(pid).current;
      else proxy += residentMemory(pid).current;
    } catch {
      // exited between the listing and the read
    }
  }
  return { runtime, proxy };
}

async function sample(server: DevServer, inspector: IsolateInspector, t: number, uploads: number): Promise<Sample> {
  let heap: number | undefined;
  try {
    heap = (await inspector.postGcHeap()).usedSize;
  } catch (error) {
    console.log(`  heap reading failed: ${String(error)}`);
  }
  const rss = rssOf(server);
  return { t, uploads, ...(heap === undefined ? {} : { heap }), runtimeRss: rss.runtime, proxyRss: rss.proxy };
}

/** Whether the upload-session routes exist on this build (they arrive with issue 12). */
async function sessionsAvailable(url: string, token: string, model: Blob, filename: string): Promise<boolean> {
  const base = `${url}/v1/projects/${PROJECT}/uploads`;
  const response = await fetch(base, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ filename, size: model.size }),
  });
  if (response.status !== 201) {
    await response.body?.cancel();
    return false;
  }
  const { uploadId } = (await response.json()) as { uploadId: string };
  await (await fetch(`${base}/${uploadId}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })).body?.cancel();
  return true;
}

/** Development tokens last an hour; a new one every half hour keeps long runs signed in. */
const TOKEN_RENEW_MS = 30 * 60_000;

async function soakOnce(target: Kind, runMinutes: number, model: Blob, filename: string): Promise<RunResult> {
  const token = { value: await devToken([PROJECT]), at: Date.now() };
  const inspectorPort = await freePort();
  const args = ["--inspector-port", String(inspectorPort), "--log-level", "warn"];
  const server = await startDevServer(
    target === "ingest" ? { vars: ingestVars, args } : { config: floorConfigs[target], args },
  );
  const poke = async () => void (await (await fetch(`${server.url}/healthz`)).body?.cancel());
  let receiver: Receiver | undefined;
  try {
    const inspector = await IsolateInspector.connect(inspectorPort, poke);
    let sessions = false;
    if (target === "ingest") {
      receiver = await startReceiver();
      const put = await fetch(`${server.url}/v1/projects/${PROJECT}/webhook`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token.value}`, "content-type": "application/json" },
        body: JSON.stringify({ url: receiver.url }),
      });
      if (put.status !== 200) throw new Error(`webhook subscription answered ${put.status}: ${await put.text()}`);
      receiver.secret = ((await put.json()) as { secret: string }).secret;
      sessions = sessionEvery > 0 && (await sessionsAvailable(server.url, token.value, model, filename));
      console.log(`upload sessions: ${sessions ? `every ${sessionEvery}th upload per client` : "not available on this build"}`);
    }
    const counters = newCounters();
    const warmupS = warmupOf(runMinutes);
    const started = Date.now();
    const until = started + runMinutes * 60_000;
    const samples: Sample[] = [await sample(server, inspector, 0, 0)];
    const load = runLoad(
      {
        url: server.url,
        token: () => token.value,
        projectId: PROJECT,
        model,
        filename,
        concurrency,
        until,
        sessionEvery: sessions ? sessionEvery : 0,
        jobTimeoutMs: 120_000,
        target: target === "ingest" ? "ingest" : "floor",
      },
      counters,
    );
    let loading = true;
    void load.finally(() => (loading = false));
    const report = (s: Sample, phase: string) =>
      console.log(
        `[${target} ${phase} ${String(Math.round(s.t)).padStart(5)} s] uploads ${counters.uploads} (sessions ${counters.sessionUploads}, refused ${JSON.stringify(counters.refused)})` +
          (target === "ingest" ? ` jobs ok ${counters.succeeded} failed ${JSON.stringify(counters.failed)} webhooks ${JSON.stringify(receiver?.counts ?? {})}` : "") +
          ` | post-GC heap ${s.heap === undefined ? "?" : mib(s.heap)} MiB | RSS runtime ${mib(s.runtimeRss)} proxy ${mib(s.proxyRss)} MiB`,
      );
    for (let next = started + sampleMs; loading; next += sampleMs) {
      await Promise.race([sleep(Math.max(0, next - Date.now())), load]);
      if (Date.now() - token.at > TOKEN_RENEW_MS) Object.assign(token, { value: await devToken([PROJECT]), at: Date.now() });
      if (!loading && Date.now() < next) break;
      const s = await sample(server, inspector, (Date.now() - started) / 1000, counters.uploads);
      samples.push(s);
      report(s, s.t < warmupS ? "warm-up" : "steady");
    }
    await load;
    const loadEnded = Date.now();
    // Quiet: deliveries finish, the runtime may close idle objects; memory should come back down.
    let idleSample = samples.at(-1) ?? samples[0];
    for (let t = 10; t <= idleS; t += 10) {
      await sleep(Math.max(0, loadEnded + t * 1000 - Date.now()));
      idleSample = await sample(server, inspector, (Date.now() - started) / 1000, counters.uploads);
      report(idleSample, "idle");
    }
    inspector.close();
    const missing = receiver ? counters.jobIds.filter((id) => !receiver?.processed.has(id)).length : 0;
    const { jobIds: _ids, uploadMs, jobMs, unfinished, ...rest } = counters;
    return {
      target,
      minutes: runMinutes,
      warmupS,
      counters: { ...rest, unfinished: unfinished.length, sessionsAvailable: sessions },
      ...(receiver ? { webhooks: { counts: receiver.counts, rejected: receiver.rejected, processedJobsMissing: missing } } : {}),
      figures: figures(samples, warmupS),
      idle: {
        afterS: idleS,
        ...(idleSample?.heap === undefined ? {} : { heap: idleSample.heap }),
        runtimeRss: idleSample?.runtimeRss ?? 0,
        proxyRss: idleSample?.proxyRss ?? 0,
      },
      uploadMsP50: median(uploadMs),
      ...(jobMs.length > 0 ? { jobMsP50: median(jobMs) } : {}),
      samples,
    };
  } finally {
    await receiver?.stop();
    await server.stop();
  }
}

const fmt = (bytes: number | undefined) => (bytes === undefined ? "-" : mib(bytes));
const kib = (bytes: number | undefined) => (bytes === undefined ? "-" : (bytes / 1024).toFixed(1));

function row(result: RunResult, floorPerUpload: number | undefined): Record<string, string | number> {
  const f = result.figures;
  const c = result.counters;
  const perUpload = f.rssPerUpload;
  return {
    worker:
      result.target === "floor"
        ? "bare Worker piping into local R2 (floor)"
        : result.target === "record-floor"
          ? "bare Worker piping into local R2 + a new Durable Object per upload"
          : `ingest (R2, ${extraVars.PROCESSOR ?? "default"} processor, webhooks${c.sessionsAvailable ? ", sessions" : ""})`,
    min: result.minutes,
    uploads: `${c.uploads}${c.sessionUploads > 0 ? ` (${c.sessionUploads} sessions)` : ""}`,
    "not 202": Object.values(c.refused).reduce((a, b) => a + b, 0),
    "jobs ok/failed/unfinished": result.target !== "ingest" ? "-" : `${c.succeeded}/${Object.values(c.failed).reduce((a, b) => a + b, 0)}/${c.unfinished}`,
    "webhooks (processed missing)": result.webhooks ? `${Object.values(result.webhooks.counts).reduce((a, b) => a + b, 0)} (${result.webhooks.processedJobsMissing})` : "-",
    "heap MiB warm-up -> end": `${fmt(f.heapAtWarmup)} -> ${fmt(f.heapAtEnd)}`,
    "heap growth MiB (fit)": fmt(f.heapGrowthFitted),
    "runtime RSS MiB warm-up -> end (max)": `${fmt(f.runtimeRssAtWarmup)} -> ${fmt(f.runtimeRssAtEnd)} (${fmt(f.runtimeRssMax)})`,
    "proxy RSS max MiB": fmt(f.proxyRssMax),
    "RSS KiB/upload": kib(perUpload),
    "x floor": perUpload === undefined || floorPerUpload === undefined || result.target === "floor" ? "-" : (perUpload / floorPerUpload).toFixed(2),
    [`idle ${result.idle.afterS} s: heap / RSS MiB`]: `${fmt(result.idle.heap)} / ${fmt(result.idle.runtimeRss)}`,
  };
}

export const soak = {
  name: "soak",
  description: `memory under sustained load through wrangler dev: post-GC isolate heap and workerd RSS every ${sampleMs / 1000} s, against a bare Worker floor`,
  async run(): Promise<void> {
    const path = generatedMb === undefined ? join(fixturesDir, fixture) : largeModel(generatedMb).path;
    const model = await openAsBlob(path);
    const filename = basename(path);
    console.log(`model ${filename} (${(model.size / 1e3).toFixed(0)} KB), ${concurrency} clients; floor ${floorMinutes} min, record floor ${recordFloorMinutes} min, ingest ${minutes} min`);
    if (Object.keys(extraVars).length > 0) console.log(`service settings: ${JSON.stringify(extraVars)}`);
    // BENCH_SOAK_FLOOR_MINUTES=0 leaves the floor out (for comparing variants of the service).
    const floor = floorMinutes > 0 ? await soakOnce("floor", floorMinutes, model, filename) : undefined;
    const recordFloor = recordFloorMinutes > 0 ? await soakOnce("record-floor", recordFloorMinutes, model, filename) : undefined;
    // BENCH_SOAK_MINUTES=0 runs the floors alone.
    const ingest = minutes > 0 ? await soakOnce("ingest", minutes, model, filename) : undefined;
    const floorPerUpload = floor?.figures.rssPerUpload;
    const runs = [floor, recordFloor, ingest].filter((run): run is RunResult => run !== undefined);
    const rows = runs.map((run) => row(run, floorPerUpload));
    printTable(`Soak: ${concurrency} clients uploading ${filename} (${(model.size / 1e3).toFixed(0)} KB) back to back through wrangler dev`, rows);
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot, encoding: "utf8" }).trim();
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, label ? `soak-${label}.json` : "soak.json");
    writeFileSync(
      file,
      `${JSON.stringify({ commit, label, settings: ingestVars, model: { file: filename, bytes: model.size }, concurrency, sampleS: sampleMs / 1000, rows, runs }, null, 2)}\n`,
    );
    console.log(`results: ${file}`);
  },
};
