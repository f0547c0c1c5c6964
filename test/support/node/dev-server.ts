import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

export interface DevServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Output so far, for failure messages. */
  output(): string;
  /**
   * The workerd process that runs the Worker. wrangler dev starts two: a proxy that owns the
   * public port, and the one running the Worker, started with an inspector address.
   */
  workerdPid(): number | undefined;
  /** Every workerd process under wrangler dev (the proxy and the runtime). */
  workerdPids(): number[];
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** Extra `--var NAME:VALUE` settings. */
  vars?: Record<string, string>;
  /** Extra wrangler dev arguments. */
  args?: string[];
  /** Script to start instead of the project's `npm run dev` (e.g. a baseline worker). */
  config?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Starts the Worker with `npm run dev` (wrangler dev, local mode) on a free loopback port,
 * with state in a fresh temporary folder, and waits until it answers /healthz.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  // Other test runs on the machine pick free ports too: one may take ours between freePort()
  // and wrangler binding it. That is the machine's race, not the Worker's; try another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "ifc-dev-"));
  const varArgs = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const configArgs = options.config ? ["--config", options.config] : [];
  const child = spawn(
    "npm",
    ["run", "--silent", "dev", "--", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, ...configArgs, ...varArgs, ...(options.args ?? [])],
    {
      cwd: projectRoot,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const server: DevServer = {
    url,
    port,
    child,
    output: () => output,
    workerdPid: () => findDescendants(child.pid, "workerd", "--inspector-addr")[0],
    workerdPids: () => findDescendants(child.pid, "workerd", ""),
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise<void>((done) => child.once("exit", () => done()));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
        await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  await server.stop();
  const message = `wrangler dev did not become ready on ${url}:\n${output}`;
  throw /Address already in use/.test(output) ? new PortTakenError(message) : new Error(message);
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function findDescendants(root: number | undefined, command: string, argument: string): number[] {
  const found: number[] = [];
  if (root === undefined) return found;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      continue;
    }
    if (comm !== command || !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(argument)) continue;
    for (let up = parentOf(pid); up !== undefined && up > 1; up = parentOf(up)) {
      if (up === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

/** Peak and current resident memory of a process, in bytes, from /proc. */
export function residentMemory(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { peak: field("VmHWM"), current: field("VmRSS") };
}

/** A development token for the running server, made by `npm run token`. */
export async function devToken(projects: string[] = ["*"]): Promise<string> {
  const child = spawn("npm", ["run", "--silent", "token", "--", ...projects], { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on("exit", done));
  if (code !== 0) throw new Error(`npm run token exited with ${code}`);
  return out.trim();
}
