import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../setup/fixture-server.ts";
import { expectProblem } from "../support/problem.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";

const run = promisify(execFile);

interface Reference {
  file: string;
  entities: number;
  materials: [string, number][];
}

function referenceFor(file: string): Reference {
  const lines = readFileSync(`${fixturesDir}/expected.jsonl`, "utf8").split("\n").filter((line) => line.trim() !== "");
  const found = lines.map((line) => JSON.parse(line) as Reference).find((model) => model.file === file);
  if (!found) throw new Error(`${file} is not in expected.jsonl`);
  return found;
}

/** Polls the job until it leaves queued/processing (processing runs from the job's alarm). */
async function waitForJob(url: string, token: string, jobId: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await fetch(`${url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    if (job.status === "succeeded" || job.status === "failed" || Date.now() > deadline) return job;
    await new Promise((done) => setTimeout(done, 200));
  }
}

describe("npm run dev", () => {
  let server: DevServer;
  let token: string;

  beforeAll(async () => {
    server = await startDevServer();
    token = await devToken(["demo"]);
  });

  afterAll(async () => {
    await server.stop();
  });

  it("accepts a curl upload of duplex.ifc in under a second and serves the job", async () => {
    const replyFile = join(mkdtempSync(join(tmpdir(), "curl-")), "reply.json");
    const { stdout } = await run("curl", [
      "-sS",
      "-o",
      replyFile,
      "-w",
      "%{http_code} %{time_total}",
      "-X",
      "POST",
      "-H",
      `Authorization: Bearer ${token}`,
      "--data-binary",
      `@${fixturesDir}/duplex.ifc`,
      `${server.url}/v1/projects/demo/models?filename=duplex.ifc`,
    ]);
    const [status, seconds] = stdout.trim().split(" ");
    expect(status).toBe("202");
    expect(Number(seconds)).toBeLessThan(1);

    const accepted = JSON.parse(readFileSync(replyFile, "utf8")) as { links: { self: string }; jobId: string };
    const job = await fetch(`${server.url}${accepted.links.self}`, { headers: { authorization: `Bearer ${token}` } });
    expect(job.status).toBe(200);
    expect(await job.json()).toMatchObject({
      jobId: accepted.jobId,
      status: expect.stringMatching(/^(queued|processing|succeeded)$/),
      file: { name: "duplex.ifc", size: 2380763 },
    });
  });

  it("summarises the uploaded model with the stream engine, matching the reference", async () => {
    const upload = await fetch(`${server.url}/v1/projects/demo/models?filename=duplex.ifc`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: readFileSync(`${fixturesDir}/duplex.ifc`),
    });
    expect(upload.status).toBe(202);
    const { jobId } = (await upload.json()) as { jobId: string };
    const job = await waitForJob(server.url, token, jobId);
    expect(job).toMatchObject({ status: "succeeded", attempts: 1 });
    const summary = (await (await fetch(`${server.url}/v1/jobs/${jobId}/summary`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      entityCount: number;
      materials: { name: string; associatedObjects: number }[];
      processor: { engine: string };
    };
    const reference = referenceFor("duplex.ifc");
    expect(summary.entityCount).toBe(reference.entities);
    expect(summary.processor.engine).toBe("stream");
    expect(summary.materials.map((m) => [m.name, m.associatedObjects]).sort()).toEqual([...reference.materials].sort());
  });

  it("rejects the dev token for another project", async () => {
    const response = await fetch(`${server.url}/v1/projects/other/models`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "ISO-10303-21;",
    });
    await expectProblem(response, 403, "forbidden");
  });
});
