import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism, loadavg } from "node:os";
import { promisify } from "node:util";
import { freePort, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { cpuSeconds, heapSampler } from "../test/support/node/inspector.ts";
import { largeModel } from "./large-model.ts";
import { mib, printTable } from "./table.ts";

const run = promisify(execFile);
const speedMegabytes = Number(process.env.BENCH_SCAN_MB ?? 100);
const memoryMegabytes = Number(process.env.BENCH_SCAN_MEMORY_MB ?? 1000);
const rounds = Number(process.env.BENCH_SCAN_ROUNDS ?? 3);
const config = "bench/baseline/scan.wrangler.toml";
/** BENCH_SCAN_PARTS=speed or =memory runs one half. */
const parts = (process.env.BENCH_SCAN_PARTS ?? "speed,memory").split(",");

interface Row {
  name: string;
  /** Sends the model as the request body (the other rows read the stored copy). */
  body: boolean;
  /** The row whose CPU time this one's is compared with: the same reads, no work on the bytes. */
  floor?: string;
}

const rows: Record<string, Row> = {
  drain: { name: "request body: drain chunk by chunk", body: true },
  "drain-blocks": { name: "request body: read in reused 1 MiB blocks (floor)", body: true },
  tokenize: { name: "request body: tokenizer + summary builder, chunk by chunk", body: true, floor: "drain" },
  scan: { name: "request body: stream engine pass (blocks, tokenizer, builder, SHA-256)", body: true, floor: "drain-blocks" },
  "r2-drain-blocks": { name: "stored in local R2: read in reused 1 MiB blocks (floor)", body: false },
  "r2-scan": { name: "stored in local R2 (one put): stream engine pass", body: false, floor: "r2-drain-blocks" },
  "r2-multipart-drain-blocks": { name: "stored in local R2 as 8 MiB multipart parts (as uploads are): read in blocks (floor)", body: false },
  "r2-multipart-scan": { name: "stored in local R2 as 8 MiB multipart parts: stream engine pass, as a job runs it", body: false, floor: "r2-multipart-drain-blocks" },
};
const rowNames: Record<string, string> = Object.fromEntries(Object.entries(rows).map(([key, row]) => [key, row.name]));

async function post(url: string, path?: string): Promise<{ seconds: number; body: string }> {
  const out = `/tmp/ifc-bench-scan-${process.pid}.json`;
  const upload = path === undefined ? [] : ["-T", path];
  const { stdout } = await run("curl", ["-sS", "-o", out, "-w", "%{http_code} %{time_total}", ...upload, "-X", "POST", url], { maxBuffer: 1 << 20 });
  const [status, seconds] = stdout.trim().split(" ");
  const { stdout: body } = await run("cat", [out], { maxBuffer: 64 << 20 });
  if (status !== "200") throw new Error(`${url} answered ${status}: ${body.slice(0, 300)}`);
  return { seconds: Number(seconds), body };
}

/**
 * Scan speed inside workerd: the same request body drained, tokenised, and put through the
 * whole stream-engine pass, in rounds on one wrangler dev server. The machine is shared, so
 * rates come from workerd's CPU time (from /proc) as well as wall time; the scan rate is the
 * bytes over the CPU time a row took beyond draining. Then memory: a 1 GB body drained and
 * scanned, each on a fresh server, with workerd's peak RSS and the isolate's JS heap.
 */
export const scan = {
  name: "scan",
  description: `stream engine scan rate vs draining the same stream (${speedMegabytes} MB x ${rounds}), memory for ${memoryMegabytes} MB, inside workerd`,
  async run(): Promise<void> {
    const results: Record<string, unknown> = { speedMegabytes, memoryMegabytes, rounds };
    if (parts.includes("speed")) results.speed = await speed();
    if (parts.includes("memory")) results.memory = await memory();
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "scan.json"), `${JSON.stringify(results, null, 2)}\n`);
  },
};

async function speed(): Promise<unknown> {
  {
    const model = largeModel(speedMegabytes);
    const server = await startDevServer({ config });
    const samples: Record<string, { wall: number[]; cpu: number[] }> = {};
    try {
      const pid = server.workerdPid();
      if (pid === undefined) throw new Error("no workerd process found under wrangler dev");
      await post(`${server.url}/store`, model.path);
      await post(`${server.url}/store-multipart`, model.path);
      for (let round = 0; round < rounds; round++) {
        for (const [row, { body }] of Object.entries(rows)) {
          const cpuBefore = cpuSeconds(pid);
          const { seconds, body: reply } = await post(`${server.url}/${row}`, body ? model.path : undefined);
          if (row.endsWith("scan")) checkEntities(reply, model.copies);
          const cpu = cpuSeconds(pid) - cpuBefore;
          (samples[row] ??= { wall: [], cpu: [] }).wall.push(seconds);
          samples[row].cpu.push(cpu);
          console.log(`round ${round + 1} ${row}: ${seconds.toFixed(2)} s wall, ${cpu.toFixed(2)} s workerd CPU`);
        }
      }
    } finally {
      await server.stop();
    }
    const best = (values: number[]) => Math.min(...values);
    const mb = model.bytes / 1e6;
    const speedRows = Object.entries(rows).map(([row, { name, floor }]) => {
      const wall = best(samples[row]?.wall ?? [0]);
      const cpu = best(samples[row]?.cpu ?? [0]);
      const extra = floor === undefined ? undefined : cpu - best(samples[floor]?.cpu ?? [0]);
      return {
        row: name,
        "wall s (best)": wall.toFixed(2),
        "wall MB/s": (mb / wall).toFixed(0),
        "workerd CPU s (best)": cpu.toFixed(2),
        "CPU MB/s": (mb / cpu).toFixed(0),
        "CPU beyond its floor s": extra === undefined ? "-" : extra.toFixed(2),
        "MB/s of CPU beyond its floor": extra === undefined || extra <= 0 ? "-" : (mb / extra).toFixed(0),
      };
    });
    printTable(`Scan speed in workerd (wrangler dev), ${mb.toFixed(1)} MB model (${model.copies} x duplex.ifc), best of ${rounds}; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`, speedRows);
    return { samples, speedRows };
  }
}

/** A scan row's summary must count every instance of every copy, or its speed means nothing. */
function checkEntities(reply: string, copies: number): void {
  const { entityCount } = JSON.parse(reply) as { entityCount: number };
  if (entityCount !== copies * 38898) throw new Error(`scan counted ${entityCount} entities, not ${copies * 38898}`);
}

async function memory(): Promise<unknown> {
  {
    const big = largeModel(memoryMegabytes);
    const memoryRows: Record<string, string | number>[] = [];
    for (const row of ["drain", "scan"]) {
      const inspectorPort = await freePort();
      const fresh = await startDevServer({ config, args: ["--inspector-port", String(inspectorPort)] });
      try {
        const pid = fresh.workerdPid();
        if (pid === undefined) throw new Error("no workerd process found under wrangler dev");
        await post(`${fresh.url}/drain`, largeModel(1).path); // load the isolate
        const heap = await heapSampler(inspectorPort);
        const idleHeap = await heap.used();
        const idle = residentMemory(pid);
        const sampler = heap.sample(100);
        const { seconds, body } = await post(`${fresh.url}/${row}`, big.path);
        const peakHeap = await sampler.stop();
        heap.close();
        const peak = residentMemory(pid).peak;
        const entities = row === "scan" ? (JSON.parse(body) as { entityCount: number }).entityCount : undefined;
        memoryRows.push({
          row: rowNames[row] ?? row,
          "model MB": (big.bytes / 1e6).toFixed(0),
          "wall s": seconds.toFixed(1),
          "idle RSS MiB": mib(idle.current),
          "VmHWM MiB": mib(peak),
          "JS heap idle MiB": mib(idleHeap),
          "JS heap peak MiB": mib(peakHeap),
          "heap growth MiB": mib(peakHeap - idleHeap),
          entities: entities === undefined ? "-" : entities === big.copies * 38898 ? `${entities} (= 38898 x ${big.copies})` : `${entities} (NOT ${38898 * big.copies})`,
        });
      } finally {
        await fresh.stop();
      }
    }
    printTable(`Memory in workerd for a ${(big.bytes / 1e6).toFixed(0)} MB body (fresh wrangler dev server per row)`, memoryRows);
    return { memoryRows };
  }
}
