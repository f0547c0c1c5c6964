import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "../test/setup/fixture-server.ts";
import { devToken, projectRoot, residentMemory, startDevServer } from "../test/support/node/dev-server.ts";
import { burst, percentile, post, trickle } from "./load.ts";
import { mib, printTable } from "./table.ts";

const honest = Number(process.env.BENCH_ABUSE_UPLOADS ?? 200);
const projects = 20;
const tricklers = Number(process.env.BENCH_ABUSE_TRICKLERS ?? 10);
const rate = 1024;
// Short enough that the tricklers outlast it many times over: were their time counted as the
// store's, the storage breaker would open.
const storageTimeoutMs = 3_000;

interface CircuitView {
  key: string;
  state: string;
  counters: { failures: number; timeouts: number; clientErrors: number };
}

export const abuse = {
  name: "abuse",
  description: `${honest} honest uploads from ${projects} projects while ${tricklers} clients trickle bodies at 1 KiB/s (loopback only)`,
  async run(): Promise<void> {
    const body = new Uint8Array(readFileSync(join(fixturesDir, "example.ifc")));
    const names = Array.from({ length: projects }, (_, i) => `tenant-${String(i).padStart(2, "0")}`);
    console.log(`making ${projects} project tokens and one operator token ...`);
    const tokens = await Promise.all(names.map((name) => devToken([name])));
    const operator = await devToken(["*"]);
    const server = await startDevServer({
      vars: { LOG_LEVEL: "warn", PROCESSING_START_DELAY_MS: "3600000", STORAGE_TIMEOUT_MS: String(storageTimeoutMs) },
    });
    const rows: Record<string, string | number>[] = [];
    try {
      const pid = server.workerdPid();
      if (pid === undefined) throw new Error("no workerd process found under wrangler dev");
      const idle = residentMemory(pid);
      let peak = idle.peak;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        try {
          const now = residentMemory(pid);
          peak = Math.max(peak, now.peak);
          samples.push(now.current);
        } catch {
          clearInterval(sampler);
        }
      }, 250);
      const url = (i: number) => `${server.url}/v1/projects/${names[i % projects]}/models?filename=example.ifc`;
      console.log(`${tricklers} clients start trickling at ${rate} B/s ...`);
      const slow = Array.from({ length: tricklers }, (_, i) => trickle(url(i), tokens[i % projects] ?? "", body, rate));
      // Let the tricklers hold their uploads open for longer than the storage deadline first.
      await new Promise((done) => setTimeout(done, storageTimeoutMs * 2));
      console.log(`${honest} honest uploads at once ...`);
      const { wallMs, results } = await burst(honest, (i) => post(url(i), tokens[i % projects] ?? "", body));
      // And then some more time of trickling, still beside the honest traffic's tail.
      await new Promise((done) => setTimeout(done, storageTimeoutMs));
      for (const client of slow) client.stop();
      const slowResults = await Promise.all(slow.map((client) => client.done));
      clearInterval(sampler);
      const response = await fetch(`${server.url}/v1/ops/circuits`, { headers: { authorization: `Bearer ${operator}` } });
      const circuits = ((await response.json()) as { circuits: CircuitView[] }).circuits;
      const storage = circuits.find((circuit) => circuit.key === "storage");
      const times = results.map((r) => r.ms);
      const statuses = new Map<number, number>();
      for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const row = {
        "honest uploads": honest,
        projects,
        "202s": statuses.get(202) ?? 0,
        "other statuses": [...statuses].filter(([status]) => status !== 202).map(([s, n]) => `${s}x${n}`).join(",") || "-",
        "wall s": (wallMs / 1000).toFixed(2),
        "p50 s": (percentile(times, 50) / 1000).toFixed(2),
        "p99 s": (percentile(times, 99) / 1000).toFixed(2),
        tricklers,
        "trickle s": (percentile(slowResults.map((r) => r.ms), 50) / 1000).toFixed(1),
        "storage breaker": storage?.state ?? "?",
        "storage failures+timeouts": storage ? storage.counters.failures + storage.counters.timeouts : "?",
        "idle RSS MiB": mib(idle.current),
        "max RSS MiB": mib(Math.max(...samples, idle.current)),
        "VmHWM MiB": mib(peak),
      };
      console.log(JSON.stringify(row));
      rows.push(row);
      printTable(`Abuse: ${honest} honest uploads of a 414 KB model from ${projects} projects beside ${tricklers} clients at 1 KiB/s (STORAGE_TIMEOUT_MS=${storageTimeoutMs})`, rows);
      const ok = row["202s"] === honest && storage?.state === "closed" && row["storage failures+timeouts"] === 0;
      if (!ok) process.exitCode = 1;
    } finally {
      await server.stop();
    }
    const outDir = join(projectRoot, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "abuse.json"), `${JSON.stringify({ honest, projects, tricklers, storageTimeoutMs, rows }, null, 2)}\n`);
  },
};
