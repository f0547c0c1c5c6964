import { parseArgs } from "node:util";
import type { JobStatus } from "../client";

export const USAGE = `Usage: ifc-ingest <command> [options]

Commands:
  upload FILE... --project P [--wait]   upload models (large ones in resumable parts)
  jobs --project P [--status S]         list a project's jobs, newest first
  job ID                                show a job
  summary ID                            show a succeeded job's model summary
  delete ID                             delete a job, its model and its summary

Options:
  --url URL            service URL (default $IFC_INGEST_URL or http://127.0.0.1:8787)
  --token TOKEN        bearer token (default $IFC_INGEST_TOKEN)
  -p, --project P      project id
  --wait               after uploading, follow each job to its end and print its summary
  --status S           queued | processing | succeeded | failed
  --limit N            jobs to list (default 20)
  --parallel N         parts sent at once (default 4)
  --session-above SIZE files above SIZE go in parts through an upload session (default 64MiB)
  --json               print one JSON document on stdout, nothing else
  -h, --help

Exit codes: 0 success, 1 a failed job or an error reply (its detail on stderr), 2 usage.`;

export class UsageError extends Error {}

export interface Parsed {
  command: "upload" | "jobs" | "job" | "summary" | "delete" | "help";
  args: string[];
  url: string;
  token: string | undefined;
  project: string | undefined;
  wait: boolean;
  json: boolean;
  status: JobStatus | undefined;
  limit: number;
  parallel: number;
  sessionAbove: number;
}

const COMMANDS = ["upload", "jobs", "job", "summary", "delete", "help"] as const;
const STATUSES = ["queued", "processing", "succeeded", "failed"] as const;

export function parse(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        project: { type: "string", short: "p" },
        wait: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        status: { type: "string" },
        limit: { type: "string", default: "20" },
        parallel: { type: "string", default: "4" },
        "session-above": { type: "string", default: "64MiB" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  if (values.help || name === undefined) return { ...defaults(env), command: "help", args: [] };
  const command = COMMANDS.find((c) => c === name);
  if (!command) throw new UsageError(`unknown command ${name}`);
  const status = values.status === undefined ? undefined : STATUSES.find((s) => s === values.status);
  if (values.status !== undefined && !status) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
  const result: Parsed = {
    ...defaults(env),
    command,
    args,
    url: values.url ?? env.IFC_INGEST_URL ?? "http://127.0.0.1:8787",
    token: values.token ?? env.IFC_INGEST_TOKEN,
    project: values.project,
    wait: values.wait,
    json: values.json,
    status,
    limit: positiveInt(values.limit, "--limit"),
    parallel: positiveInt(values.parallel, "--parallel"),
    sessionAbove: parseSize(values["session-above"]),
  };
  if ((command === "upload" || command === "jobs") && !result.project) throw new UsageError(`${command} needs --project`);
  if (command === "upload" && args.length === 0) throw new UsageError("upload needs at least one FILE");
  if (["job", "summary", "delete"].includes(command) && args.length !== 1) throw new UsageError(`${command} takes one job ID`);
  if (command === "jobs" && args.length > 0) throw new UsageError("jobs takes no positional arguments");
  if (!result.token) throw new UsageError("no token: pass --token or set IFC_INGEST_TOKEN");
  try {
    new URL(result.url);
  } catch {
    throw new UsageError(`--url ${result.url} is not a URL`);
  }
  return result;
}

function defaults(env: NodeJS.ProcessEnv): Parsed {
  return { command: "help", args: [], url: env.IFC_INGEST_URL ?? "http://127.0.0.1:8787", token: undefined, project: undefined, wait: false, json: false, status: undefined, limit: 20, parallel: 4, sessionAbove: 64 * 2 ** 20 };
}

function positiveInt(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer`);
  return value;
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30 };

/** "64MiB", "100MB", "1048576" -> bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new UsageError(`--session-above ${text}: expected a size such as 64MiB`);
  return Math.floor(Number(match[1]) * unit);
}
