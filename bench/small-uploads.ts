import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fixturesDir } from "../test/setup/fixture-server.ts";
import { devToken, projectRoot, startDevServer } from "../test/support/node/dev-server.ts";
import { cpuSeconds } from "../test/support/node/inspector.ts";
import { burst, percentile, post } from "./load.ts";
import { printTable } from "./table.ts";

const uploads = Number(process.env.BENCH_SMALL_UPLOADS ?? 200);
const rounds = Number(process.env.BENCH_SMALL_ROUNDS ?? 3);
const baseline = "bench/baseline/wrangler.toml";
/** After a burst, work it left behind (the job objects' first alarms) is counted with it. */
const settleMs = Number(process.env.BENCH_SMALL_SETTLE_MS ?? 2000);

interface Stats {
  wall: number[];
  p50: number[];
  p99: number[];
  /** CPU seconds of the workerd process running the Worker (and its objects and local R2), per burst. */
  cpu: number[];
  statuses: Set<number>;
}

interface Target {
  name: string;
  config?: string;
  path: string;
}

const targets: Target[] = [
  { name: "bare Worker draining the body (floor)", config: baseline, path: "/drain" },
  { name: "bare Worker piping the body into local R2 (peer)", config: baseline, path: "/r2" },
  { name: "bare Worker piping into local R2, then one new Durable Object per upload (record floor)", config: "bench/baseline/record.wrangler.toml", path: "/r2" },
  { name: "ingest: raw body -> R2, job recorded", path: "/v1/projects/bench/models?filename=example.ifc" },
];

export const smallUploads = {
  name: "small-uploads",
  description: `${uploads} concurrent uploads of example.ifc (414 KB) through wrangler dev, against bare Workers in the same run`,
  async run(): Promise<void> {
    const body = new Uint8Array(readFileSync(join(fixturesDir, "example.ifc")));
    const token = await devToken(["bench"]);
    const servers = new Map<string, Awaited<ReturnType<typeof startDevServer>>>();
    const byTarget = new Map<string, Stats>();
    try {
      for (const target of targets) {
        console.log(`starting ${target.name} ...`);
        // Processing deferred: the benchmark measures the upload alone.
        servers.set(target.name, await startDevServer(target.config ? { config: target.config } : { vars: { LOG_LEVEL: "warn", PROCESSING_START_DELAY_MS: "3600000" } }));
        byTarget.set(target.name, { wall: [], p50: [], p99: [], cpu: [], statuses: new Set() });
      }
      // Rounds alternate between the Workers, so a busy moment of the machine hits them alike;
      // a first unmeasured burst warms each one up.
      for (let round = 0; round <= rounds; round++) {
        for (const target of targets) {
          const server = servers.get(target.name);
          const stats = byTarget.get(target.name);
          if (!server || !stats) continue;
          // CPU time is what the machine's other load disturbs least: wall time waits for it, CPU time does not.
          const pid = server.workerdPid();
          const cpuBefore = pid === undefined ? 0 : cpuSeconds(pid);
          const { wallMs, results } = await burst(uploads, () => post(`${server.url}${target.path}`, token, body));
          await new Promise((done) => setTimeout(done, settleMs));
          const cpu = pid === undefined ? Number.NaN : cpuSeconds(pid) - cpuBefore;
          const times = results.map((r) => r.ms);
          if (round === 0) {
            console.log(`warm-up ${target.name}: ${(wallMs / 1000).toFixed(2)} s`);
            continue;
          }
          for (const r of results) stats.statuses.add(r.status);
          stats.wall.push(wallMs / 1000);
          stats.p50.push(percentile(times, 50) / 1000);
          stats.p99.push(percentile(times, 99) / 1000);
          stats.cpu.push(cpu);
          console.log(`round ${round} ${target.name}: ${(wallMs / 1000).toFixed(2)} s wall, p50 ${(percentile(times, 50) / 1000).toFixed(2)} s, workerd CPU ${cpu.toFixed(2)} s`);
        }
      }
    } finally {
      for (const server of servers.values()) await server.stop();
    }
    const median = (values: number[]) => percentile(values, 50);
    const peer = median(byTarget.get(targets[1]?.name ?? "")?.wall ?? []);
    const recordFloor = byTarget.get(targets[2]?.name ?? "");
    const rows = targets.map((target) => {
      const stats = byTarget.get(target.name) ?? { wall: [], p50: [], p99: [], cpu: [], statuses: new Set<number>() };
      const drain = target.config !== undefined && target.path === "/drain";
      return {
        worker: target.name,
        uploads,
        statuses: [...stats.statuses].join(","),
        "wall s (rounds)": stats.wall.map((w) => w.toFixed(2)).join(" / "),
        "median wall s": median(stats.wall).toFixed(2),
        "p50 s": median(stats.p50).toFixed(2),
        "p99 s": median(stats.p99).toFixed(2),
        "x R2 peer": drain ? "-" : (median(stats.wall) / peer).toFixed(2),
        "x record floor": drain || target === targets[1] ? "-" : (median(stats.wall) / median(recordFloor?.wall ?? [])).toFixed(2),
        "workerd CPU ms/upload": ((median(stats.cpu) * 1000) / uploads).toFixed(1),
      };
    });
    printTable(`${uploads} concurrent uploads of a 414 KB model through wrangler dev (median of ${rounds} rounds; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")})`, rows);
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "small-uploads.json"), `${JSON.stringify({ uploads, rounds, rows }, null, 2)}\n`);
  },
};
