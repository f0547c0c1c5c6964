import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fixturesDir } from "../test/setup/fixture-server.ts";
import { devToken, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { largeModel } from "./large-model.ts";
import { mib, printTable } from "./table.ts";

const run = promisify(execFile);
const sizes = (process.env.BENCH_PROCESSING_MB ?? "10,50,100").split(",").map(Number);
const HEAP_LIMIT = 96 * 1024 * 1024;

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

export const processing = {
  name: "processing",
  description: `web-ifc summary of generated models (${sizes.join(", ")} MB) through npm run dev: WASM heap and wall time`,
  async run(): Promise<void> {
    const ref = reference();
    const token = await devToken(["bench"]);
    const rows: Record<string, string | number>[] = [];
    const server = await startDevServer();
    try {
      const pid = server.workerdPid();
      for (const megabytes of sizes) {
        const model = largeModel(megabytes);
        console.log(`${megabytes} MB: uploading ${mib(model.bytes)} MiB (${model.copies} copies of duplex.ifc) ...`);
        const started = Date.now();
        const upload = await curlUpload(server.url, token, model.path);
        if (upload.status !== 202) throw new Error(`upload answered ${upload.status}`);
        console.log(`${megabytes} MB: accepted in ${upload.seconds.toFixed(1)} s, processing ...`);
        let job: { status: string; error?: { code: string; message: string } } = { status: "queued" };
        for (let polls = 0; job.status === "queued" || job.status === "processing"; polls++) {
          await new Promise((done) => setTimeout(done, 250));
          job = (await (await fetch(`${server.url}/v1/jobs/${upload.jobId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as typeof job;
          if (polls % 20 === 19) console.log(`${megabytes} MB: ${job.status} after ${((Date.now() - started) / 1000).toFixed(1)} s ...`);
        }
        const wall = (Date.now() - started) / 1000;
        if (job.status !== "succeeded") {
          console.log(`${megabytes} MB: ${job.status} (${job.error?.code}): ${job.error?.message}`);
          rows.push({ "model MB": (model.bytes / 1e6).toFixed(1), copies: model.copies, status: `${job.status}: ${job.error?.code ?? "?"}` });
          continue;
        }
        const summary = (await (await fetch(`${server.url}/v1/jobs/${upload.jobId}/summary`, { headers: { authorization: `Bearer ${token}` } })).json()) as Summary;
        const problems = mismatches(summary, ref, model.copies);
        const heap = summary.processor.heapBytes ?? 0;
        console.log(`${megabytes} MB: succeeded in ${wall.toFixed(1)} s, heap ${mib(heap)} MiB, phases ${JSON.stringify(summary.processor.phasesMs)}, ${problems.length === 0 ? "summary = reference x copies" : problems.join("; ")}`);
        rows.push({
          "model MB": (model.bytes / 1e6).toFixed(1),
          copies: model.copies,
          status: job.status,
          "upload s": upload.seconds.toFixed(1),
          "web-ifc s": (summary.processor.durationMs / 1000).toFixed(1),
          "upload->summary s": wall.toFixed(1),
          "WASM heap MiB": mib(heap),
          "heap <= 96 MiB": heap <= HEAP_LIMIT ? "yes" : "NO",
          "summary = ref x copies": problems.length === 0 ? "yes" : `NO (${problems.join("; ")})`,
          "workerd VmHWM MiB": pid === undefined ? "-" : mib(residentMemory(pid).peak),
        });
      }
    } finally {
      await server.stop();
    }
    printTable("web-ifc summaries in the job Durable Object (npm run dev, R2 local, PROCESSING_MEMORY_BYTES 96 MiB)", rows);
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "processing.json"), `${JSON.stringify({ sizes, rows }, null, 2)}\n`);
  },
};
