import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../setup/fixture-server.ts";
import { buildCli, cliNode, runCli } from "../support/node/cli.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";

const EMPTY_MODEL =
  "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\n" +
  "FILE_NAME('empty.ifc','2026-01-01T00:00:00',(''),(''),'tests','tests','');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n";

describe("ifc-ingest against npm run dev", () => {
  let server: DevServer;
  let env: Record<string, string>;
  const projectId = `cli-${Date.now().toString(36)}`;
  const work = mkdtempSync(join(tmpdir(), "ifc-cli-"));

  beforeAll(async () => {
    buildCli();
    server = await startDevServer();
    env = { IFC_INGEST_URL: server.url, IFC_INGEST_TOKEN: await devToken([projectId]), IFC_INGEST_CACHE_DIR: join(work, "cache") };
  });

  afterAll(async () => {
    await server.stop();
  });

  it("serves an OpenAPI 3.1 document that a maintained validator accepts, without a token", async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate((await response.json()) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("serves /docs and the reference page's script from the service itself", async () => {
    const page = await (await fetch(`${server.url}/docs`)).text();
    const src = /<script src="([^"]+)"/.exec(page)?.[1];
    expect(src).toBe("/vendor/scalar-api-reference.js");
    const script = await fetch(`${server.url}${src}`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  });

  it(`uploads with --wait --json on ${cliNode === "/usr/bin/node" ? "the machine's Node" : "Node"} and prints the succeeded job with its summary`, async () => {
    const run = await runCli(["upload", join(fixturesDir, "duplex.ifc"), "--project", projectId, "--wait", "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout) as { status: string; file: { name: string; size: number }; summary: { entityCount: number; processor: { engine: string } } };
    expect(job).toMatchObject({ status: "succeeded", file: { name: "duplex.ifc", size: 2380763 }, summary: { processor: { engine: "stream" } } });
    expect(run.stderr).not.toContain("\u001b[");
  });

  it("prints the summary table for a person, without colours or bars when the output is not a terminal", async () => {
    const run = await runCli(["upload", join(fixturesDir, "AC20-FZK-Haus.ifc"), "--project", projectId, "--wait"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/AC20-FZK-Haus\.ifc .*succeeded/);
    for (const row of ["Schema", "Entities", "Storeys", "Top materials", "Top entity types", "Validation"]) expect(run.stdout).toContain(row);
    expect(run.stderr).toMatch(/AC20-FZK-Haus\.ifc: uploaded .* MB\/s, job [0-9a-f-]{36}/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\u001b\[|█|░/);
  });

  it("exits 1 with the job's reason when processing fails", async () => {
    const path = join(work, "empty.ifc");
    writeFileSync(path, EMPTY_MODEL);
    const run = await runCli(["upload", path, "--project", projectId, "--wait"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/empty\.ifc: failed \(invalid_step\): .*no entity instances/);
  });

  it("lists the project's jobs newest first, by status, as a table or JSON", async () => {
    const all = await runCli(["jobs", "--project", projectId, "--json"], env);
    expect(all.code, all.stderr).toBe(0);
    const page = JSON.parse(all.stdout) as { items: { file: { name: string }; status: string }[]; nextCursor: string | null };
    expect(page.items.map((job) => [job.file.name, job.status])).toEqual([
      ["empty.ifc", "failed"],
      ["AC20-FZK-Haus.ifc", "succeeded"],
      ["duplex.ifc", "succeeded"],
    ]);
    const failed = await runCli(["jobs", "--project", projectId, "--status", "failed"], env);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/JOB\s+\|\s+STATUS\s+\|\s+FILE/);
    expect(failed.stdout).toContain("empty.ifc");
    expect(failed.stdout).not.toContain("duplex.ifc");
    const two = JSON.parse((await runCli(["jobs", "--project", projectId, "--limit", "2", "--json"], env)).stdout) as typeof page;
    expect(two.items).toHaveLength(2);
    expect(two.nextCursor).not.toBeNull();
  });

  it("deletes a job: its record and model are gone and it leaves the listing", async () => {
    const page = JSON.parse((await runCli(["jobs", "--project", projectId, "--status", "failed", "--json"], env)).stdout) as { items: { jobId: string }[] };
    const jobId = page.items[0]?.jobId ?? "";
    const removed = await runCli(["delete", jobId, "--json"], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ deleted: jobId });
    const gone = await runCli(["job", jobId], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`No job ${jobId}.`);
    expect((await runCli(["jobs", "--project", projectId, "--status", "failed", "--json"], env)).stdout).not.toContain(jobId);
  });

  it("exits 1 and prints the problem's detail when the service refuses", async () => {
    const run = await runCli(["job", "6f1c2b9e-4d0a-4f7e-9a51-2a8c3e7d9b10"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: No job 6f1c2b9e-4d0a-4f7e-9a51-2a8c3e7d9b10\. \(request [0-9a-f-]{36}\)$/m);
    const other = await runCli(["jobs", "--project", "someone-else"], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("does not grant access to project someone-else");
  });

  it("exits 2 on usage errors", async () => {
    for (const args of [[], ["upload", "x.ifc"], ["jobs"], ["job"], ["frobnicate"], ["jobs", "--project", "p", "--status", "done"]]) {
      const run = await runCli(args.length ? args : ["upload"], env);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("Usage: ifc-ingest");
    }
    expect((await runCli(["jobs", "--project", projectId], { IFC_INGEST_URL: server.url })).code).toBe(2);
    expect((await runCli(["--help"])).code).toBe(0);
  });
});
