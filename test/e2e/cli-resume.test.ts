// The CLI through upload sessions against `npm run dev` (local R2, the service's part endpoint):
// killed half-way through a model, run again, it asks the session which parts storage holds,
// sends only the others, completes and prints the summary. CLI_RESUME_MB sets the model's size
// (48 MB here, 6 parts of 8 MiB; the README shows a 1 GB run).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedModel } from "../setup/generated-model.ts";
import { buildCli, runCli, startCli } from "../support/node/cli.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";
import { copiesIn } from "../support/node/session-client.ts";
import { copiesMismatches, reference, type SummaryShape } from "../support/node/summary-copies.ts";

const megabytes = Number(process.env.CLI_RESUME_MB ?? 48);
const projectId = "cli-resume";

interface Session {
  uploadId: string;
  status: string;
  partCount: number;
  parts: { partNumber: number }[];
}

describe("ifc-ingest upload through an upload session", () => {
  let server: DevServer;
  let token: string;
  let model: string;

  beforeAll(async () => {
    buildCli();
    model = generatedModel(megabytes);
    server = await startDevServer({ vars: { PROCESSING_START_DELAY_MS: "0" } });
    token = await devToken([projectId]);
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  }

  /** The session the CLI opened, once storage holds at least `parts` of its parts. */
  async function sessionWith(parts: number, timeoutMs = 90_000): Promise<Session> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { uploads } = await api<{ uploads: { uploadId: string }[] }>(`/v1/projects/${projectId}/uploads`);
      const latest = uploads[0];
      if (latest) {
        const session = await api<Session>(`/v1/projects/${projectId}/uploads/${latest.uploadId}`);
        if (session.parts.length >= parts) return session;
      }
      if (Date.now() > deadline) throw new Error(`no session with ${parts} parts in time`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  it("resumes after being killed half-way without sending finished parts again, and prints the summary", async () => {
    const env = { IFC_INGEST_URL: server.url, IFC_INGEST_TOKEN: token, IFC_INGEST_CACHE_DIR: mkdtempSync(join(tmpdir(), "ifc-cli-cache-")) };
    const args = ["upload", model, "--project", projectId, "--session-above", "1MiB", "--parallel", "2", "--wait", "--json"];
    const first = startCli(args, env);
    const partial = await sessionWith(Math.ceil(megabytes / 8.4 / 2));
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stdout).toBe("");
    const seen = partial.parts.length;

    const second = await runCli(args, env);
    expect(second.code, second.stderr).toBe(0);
    // A part in flight when the client died may still have landed: the listing decides.
    const resumed = new RegExp(`resuming upload ${partial.uploadId}, (\\d+) of ${partial.partCount} parts already sent`).exec(second.stderr);
    const had = Number(resumed?.[1]);
    expect(had).toBeGreaterThanOrEqual(seen);
    expect(had).toBeLessThan(partial.partCount);
    expect(second.stderr).toContain(`sent ${partial.partCount - had} parts, ${had} were already there (upload ${partial.uploadId})`);
    const job = JSON.parse(second.stdout) as { status: string; file: { size: number }; summary: SummaryShape };
    expect(job.status).toBe("succeeded");
    expect(copiesMismatches(job.summary, reference("duplex.ifc"), copiesIn(model))).toEqual([]);
    const done = await api<Session & { jobId: string }>(`/v1/projects/${projectId}/uploads/${partial.uploadId}`);
    expect(done.status).toBe("completed");

    // Nothing is left to resume: the same command starts a new session.
    const third = await runCli(["upload", model, "--project", projectId, "--session-above", "1MiB"], env);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toContain("resuming");
  });
});
