import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./dev-server.ts";

/**
 * The machine's own Node (20 here) when there is one, else the Node running the tests: the CLI
 * must run on both, and the tests run under the toolchain's Node 22.
 */
export const cliNode = existsSync("/usr/bin/node") ? "/usr/bin/node" : process.execPath;

export function buildCli(): void {
  execFileSync(process.execPath, [join(projectRoot, "scripts/build-cli.mjs")], { cwd: projectRoot, stdio: "inherit" });
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<CliRun>;
}

/** Starts `ifc-ingest ARGS` as a user would (bin/ifc-ingest.mjs), with pipes: not a TTY. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(cliNode, [join(projectRoot, "bin/ifc-ingest.mjs"), ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

export const runCli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => startCli(args, env).done;
