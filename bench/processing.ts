import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fixturesDir } from "../test/setup/fixture-server.ts";
import { devToken, freePort, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { cpuSeconds, heapSampler } from "../test/support/node/inspector.ts";
import { availableParallelism, loadavg } from "node:os";
import { largeModel } from "./large-model.ts";
import { mib, printTable } from "./table.ts";

const run = promisify(execFile);
const sizes = (process.env.BENCH_PROCESSING_MB ?? "100,1000").split(",").map(Number);

interface Summary {
  schema: string;
  entityCount: number;
  storeys: { name: string }[];
  counts: Record<string, number>;
  materials: { name: string; associatedObjects: number }[];
  processor: { engine: string; durationMs: number; heapBytes?: number; phasesMs?: Record<string, number> };
}

interface Reference {
  file: string;
  entities: number;
  materials: [string, number][];
  storeys: string[];
  counts: Record<string, number>;
}

const reference = (): Reference => {
  const line = readFileSync(join(fixturesDir, "expected.jsonl"), "utf8")
    .split("\n")
    .find((l) => l.includes('"duplex.ifc"'));
  if (!line) throw new Error("duplex.ifc missing from expected.jsonl");
  return JSON.parse(line) as Reference;
};

/** The summary of N copies of duplex must be the reference with every number times N. */
function mismatches(summary: Summary, ref: Reference, copies: number): string[] {
  const problems: string[] = [];
  if (summary.entityCount !== ref.entities * copies) problems.push(`entityCount ${summary.entityCount} != ${ref.entities * copies}`);
  if (summary.storeys.length !== ref.storeys.length * copies) problems.push(`storeys ${summary.storeys.length}`);
  for (const [type, count] of Object.entries(ref.counts)) {
    if ((summary.counts[type] ?? 0) !== count * copies) problems.push(`${type} ${summary.counts[type] ?? 0} != ${count * copies}`);
  }
  const key = (pairs: [string, number][]) => pairs.map(([n, c]) => `${n}\u0000${c}`).sort().join("\n");
  const expected = ref.materials.flatMap((pair) => Array.from({ length: copies }, () => pair));
  if (key(summary.materials.map((m) => [m.name, m.associatedObjects])) !== key(expected)) problems.push("materials differ");
  return problems;
}

async function curlUpload(url: string, token: string, path: string): Promise<{ status: number; seconds: number; jobId: string }> {
  const { stdout } = await run(
    "curl",
    ["-sS", "-w", "\n%{http_code} %{time_total}", "-H", `Authorization: Bearer ${token}`, "-T", path, "-X", "POST", `${url}/v1/projects/bench/models?filename=large.ifc`],
    { maxBuffer: 1024 * 1024 },
  );
  const lines = stdout.trim().split("\n");
  const [status, seconds] = (lines.pop() ?? "").split(" ");
  const body = JSON.parse(lines.join("\n")) as { jobId?: string };
  return { status: Number(status), seconds: Number(seconds), jobId: body.jobId ?? "" };
}

interface Job {
  status: string;
  createdAt: string;
  updatedAt: string;
  error?: { code: string; message: string };
  progress?: { phase: string; bytesDone: number; bytesTotal: number };
}

/**
 * How often the bench asks for the job. Each poll is a request into the isolate that runs the
 * job, so a short interval slows what it measures; the 202 -> summary figure comes from the
 * job's own clock (createdAt -> updatedAt) and does not depend on it.
 */
const pollMs = Number(process.env.BENCH_PROCESSING_POLL_MS ?? 250);
/** BENCH_PROCESSING_HEAP=off leaves the inspector out (it samples the JS heap every 100 ms). */
const sampleHeap = process.env.BENCH_PROCESSING_HEAP !== "off";

/** Polls the job every pollMs until it ends; answers it, the time it ended and every progress seen. */
async function awaitJob(url: string, token: string, jobId: string): Promise<{ job: Job; endedAt: number; progress: Job["progress"][] }> {
  const seen: Job["progress"][] = [];
  for (;;) {
    const job = (await (await fetch(`${url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Job;
    if (job.progress && JSON.stringify(job.progress) !== JSON.stringify(seen[seen.length - 1])) seen.push(job.progress);
    if (job.status !== "queued" && job.status !== "processing") return { job, endedAt: Date.now(), progress: seen };
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

const engines = (process.env.BENCH_PROCESSING_ENGINES ?? "stream,web-ifc").split(",");
/** More settings for the server, e.g. BENCH_PROCESSING_VARS=PROCESSING_START_DELAY_MS:100 */
const extraVars = Object.fromEntries((process.env.BENCH_PROCESSING_VARS ?? "").split(",").filter(Boolean).map((pair) => pair.split(":") as [string, string]));
/** web-ifc cannot hold models above about 125 MB in the isolate; larger ones are not tried with it. */
const WEB_IFC_MAX_MB = 100;

export const processing = {
  name: "processing",
  description: `summaries of generated models (${sizes.join(", ")} MB) through npm run dev with ${engines.join(" and ")}: 202 to summary, memory`,
  async run(): Promise<void> {
    const ref = reference();
    const token = await devToken(["bench"]);
    const rows: Record<string, string | number>[] = [];
    for (const engine of engines) {
      for (const megabytes of sizes) {
        if (engine === "web-ifc" && megabytes > WEB_IFC_MAX_MB) continue;
        const model = largeModel(megabytes);
        // A fresh server per model, so each VmHWM is that model's alone.
        const inspectorPort = await freePort();
        const vars = { PROCESSOR: engine, LOG_LEVEL: "warn", ...extraVars };
        const server = await startDevServer({ vars, args: ["--inspector-port", String(inspectorPort)] });
        try {
          const pid = server.workerdPid();
          const heap = sampleHeap ? await heapSampler(inspectorPort).catch(() => undefined) : undefined;
          const idleHeap = (await heap?.used()) ?? 0;
          const sampler = heap?.sample(100);
          console.log(`${engine} ${megabytes} MB: uploading ${mib(model.bytes)} MiB (${model.copies} copies of duplex.ifc) ...`);
          const upload = await curlUpload(server.url, token, model.path);
          const acceptedAt = Date.now();
          const cpuAt202 = pid === undefined ? 0 : cpuSeconds(pid);
          if (upload.status !== 202) throw new Error(`upload answered ${upload.status}`);
          const afterUpload = pid === undefined ? undefined : residentMemory(pid).peak;
          const { job, endedAt, progress } = await awaitJob(server.url, token, upload.jobId);
          const cpuToSummary = pid === undefined ? 0 : cpuSeconds(pid) - cpuAt202;
          const peakHeap = (await sampler?.stop()) ?? 0;
          heap?.close();
          const seconds = (endedAt - acceptedAt) / 1000;
          const serviceSeconds = (Date.parse(job.updatedAt) - Date.parse(job.createdAt)) / 1000;
          const base = { engine, "model MB": (model.bytes / 1e6).toFixed(1), copies: model.copies };
          if (job.status !== "succeeded") {
            console.log(`${engine} ${megabytes} MB: ${job.status} (${job.error?.code}): ${job.error?.message}`);
            rows.push({ ...base, status: `${job.status}: ${job.error?.code ?? "?"}` });
            continue;
          }
          const summary = (await (await fetch(`${server.url}/v1/jobs/${upload.jobId}/summary`, { headers: { authorization: `Bearer ${token}` } })).json()) as Summary;
          const problems = mismatches(summary, ref, model.copies);
          console.log(`${engine} ${megabytes} MB: summary ${serviceSeconds.toFixed(2)} s after the job was recorded (seen ${seconds.toFixed(2)} s after the 202), progress seen ${progress.length}x, ${problems.length === 0 ? "summary = reference x copies" : problems.join("; ")}`);
          rows.push({
            ...base,
            status: job.status,
            "upload s": upload.seconds.toFixed(1),
            "202 -> summary s (job clock)": serviceSeconds.toFixed(2),
            [`seen by a ${pollMs} ms poll s`]: seconds.toFixed(2),
            "engine s": (summary.processor.durationMs / 1000).toFixed(2),
            "workerd CPU s 202 -> summary": pid === undefined ? "-" : cpuToSummary.toFixed(2),
            "progress updates seen": progress.length,
            "JS heap growth MiB": heap ? mib(peakHeap - idleHeap) : "-",
            "WASM heap MiB": summary.processor.heapBytes === undefined ? "-" : mib(summary.processor.heapBytes),
            "VmHWM after upload MiB": afterUpload === undefined ? "-" : mib(afterUpload),
            "VmHWM after summary MiB": pid === undefined ? "-" : mib(residentMemory(pid).peak),
            "summary = ref x copies": problems.length === 0 ? "yes" : `NO (${problems.join("; ")})`,
          });
        } finally {
          await server.stop();
        }
      }
    }
    printTable(`Summaries through npm run dev (job Durable Object, local R2), 202 to summary; heap sampling ${sampleHeap ? "on" : "off"}; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`, rows);
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "processing.json"), `${JSON.stringify({ sizes, engines, rows }, null, 2)}\n`);
  },
};
