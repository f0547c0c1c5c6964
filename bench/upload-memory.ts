import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { devToken, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { type S3Peer, startS3Peer } from "../test/setup/s3-peer.ts";
import { s3Settings } from "../test/support/s3-peer-info.ts";
import { largeModel } from "./large-model.ts";
import { mib, printTable } from "./table.ts";

const run = promisify(execFile);
const megabytes = Number(process.env.BENCH_UPLOAD_MB ?? 1000);

interface Target {
  name: string;
  /** Extra settings for `npm run dev`, given the local S3 peer. */
  vars?: (peer: S3Peer) => Record<string, string>;
  /** A baseline Worker's config, or none for the ingest service itself. */
  config?: string;
  path: string;
  mode: "raw" | "multipart";
  floor?: boolean;
}

const baseline = "bench/baseline/wrangler.toml";
const ingest = "/v1/projects/bench/models?filename=large.ifc";
// Processing stays out of the way: the benchmark measures the upload alone.
const quiet = { LOG_LEVEL: "warn", PROCESSING_START_DELAY_MS: "3600000" };
const s3Vars = (peer: S3Peer): Record<string, string> => ({ ...s3Settings(peer), ...quiet });

const targets: Target[] = [
  { name: "bare Worker draining the body (floor)", config: baseline, path: "/drain", mode: "raw", floor: true },
  { name: "bare Worker piping the body into local R2", config: baseline, path: "/r2", mode: "raw" },
  { name: "ingest: raw body -> R2 multipart", path: ingest, mode: "raw" },
  { name: "ingest: multipart -> R2 multipart", path: ingest, mode: "multipart" },
  // S3 (s3rver behind the SigV4 proxy) runs outside workerd: these rows show the pipeline alone.
  { name: "ingest: raw body -> S3 multipart", path: ingest, mode: "raw", vars: s3Vars },
  { name: "ingest: multipart -> S3 multipart", path: ingest, mode: "multipart", vars: s3Vars },
];

async function curlUpload(url: string, token: string, path: string, mode: Target["mode"]) {
  // -T streams the file from disk; --data-binary would read it all into curl's memory.
  const body = mode === "raw" ? ["-T", path, "-X", "POST", "-H", "content-type: application/octet-stream"] : ["-F", `file=@${path}`];
  const { stdout } = await run(
    "curl",
    ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", `Authorization: Bearer ${token}`, ...body, url],
    { maxBuffer: 1024 * 1024 },
  );
  const [status, seconds] = stdout.trim().split(" ");
  return { status: Number(status), seconds: Number(seconds) };
}

export const uploadMemory = {
  name: "upload-memory",
  description: `peak resident memory of workerd for a ${megabytes} MB upload through wrangler dev, against a bare draining Worker`,
  async run(): Promise<void> {
    const model = largeModel(megabytes);
    const peer = await startS3Peer({ bucket: "ifc-bench-memory" });
    const token = await devToken(["bench"]);
    const rows: Record<string, string | number>[] = [];
    let floor: number | undefined;
    // BENCH_ONLY=<part of a row name> runs that row and the floor alone.
    const only = process.env.BENCH_ONLY;
    for (const target of targets.filter((t) => t.floor === true || only === undefined || t.name.includes(only))) {
      console.log(`starting ${target.name} (${target.mode}) ...`);
      const server = await startDevServer(target.config ? { config: target.config } : { vars: target.vars?.(peer) ?? quiet });
      try {
        const pid = server.workerdPid();
        if (pid === undefined) throw new Error("no workerd process found under wrangler dev");
        const idle = residentMemory(pid);
        console.log(`uploading ${mib(model.bytes)} MiB ...`);
        // Sampled while the upload runs, so a process that dies mid-way still reports its peak.
        let peak = idle.peak;
        const sampler = setInterval(() => {
          try {
            peak = Math.max(peak, residentMemory(pid).peak);
          } catch {
            clearInterval(sampler);
          }
        }, 200);
        const result = await curlUpload(`${server.url}${target.path}`, token, model.path, target.mode).finally(() =>
          clearInterval(sampler),
        );
        try {
          peak = Math.max(peak, residentMemory(pid).peak);
        } catch {
          console.log(`workerd ${pid} exited during the upload:\n${server.output().slice(-2000)}`);
        }
        if (target.floor) floor = peak;
        const row = {
          worker: target.name,
          body: target.mode,
          "size MiB": mib(model.bytes),
          status: result.status,
          seconds: result.seconds.toFixed(1),
          "MB/s": (model.bytes / 1e6 / result.seconds).toFixed(0),
          "idle RSS MiB": mib(idle.current),
          "VmHWM MiB": mib(peak),
          "over floor MiB": target.floor || floor === undefined ? "-" : mib(peak - floor),
        };
        console.log(JSON.stringify(row));
        rows.push(row);
      } finally {
        await server.stop();
      }
    }
    await peer.stop();
    printTable(`Upload of a ${megabytes} MB model through wrangler dev (peak RSS of workerd)`, rows);
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "upload-memory.json"), `${JSON.stringify({ megabytes, rows }, null, 2)}\n`);
  },
};
