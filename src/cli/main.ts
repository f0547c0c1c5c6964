import { ApiError, IngestClient } from "../client";
import { deleteJob, listJobs, showJob, showSummary } from "./commands";
import { USAGE, UsageError, parse } from "./args";
import { terminal } from "./terminal";
import { upload } from "./upload-command";
import { cacheDir } from "./upload-state";

/** Runs one command line; answers the exit code (0 ok, 1 failed job or error reply, 2 usage). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options;
  try {
    options = parse(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`ifc-ingest: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const term = terminal({ json: options.json, env });
  const client = new IngestClient({ url: options.url, token: options.token });
  const [id = ""] = options.args;
  try {
    switch (options.command) {
      case "upload":
        return await upload(client, term, {
          files: options.args,
          projectId: options.project ?? "",
          wait: options.wait,
          parallel: options.parallel,
          sessionAbove: options.sessionAbove,
          cacheDir: cacheDir(env),
        });
      case "jobs":
        return await listJobs(client, term, options.project ?? "", options.status, options.limit);
      case "job":
        return await showJob(client, term, id);
      case "summary":
        return await showSummary(client, term, id);
      case "delete":
        return await deleteJob(client, term, id);
    }
  } catch (error) {
    if (error instanceof ApiError) {
      term.err(`error: ${error.problem.detail}${error.problem.requestId ? ` (request ${error.problem.requestId})` : ""}`);
      return 1;
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    term.err(`error: ${error instanceof Error ? error.message : String(error)}${cause}`);
    return 1;
  }
}
