import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../setup/fixture-server.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";

const run = promisify(execFile);

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
    expect(await job.json()).toMatchObject({ jobId: accepted.jobId, status: "queued", file: { name: "duplex.ifc", size: 2380763 } });
  });

  it("rejects the dev token for another project", async () => {
    const response = await fetch(`${server.url}/v1/projects/other/models`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "ISO-10303-21;",
    });
    expect(response.status).toBe(403);
  });
});
