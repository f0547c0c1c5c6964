import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildCli, cliNode } from "../support/node/cli.ts";
import { projectRoot } from "../support/node/dev-server.ts";

describe("ifc-edge-ingest/client", () => {
  it("is importable by its package name as plain JavaScript on the machine's Node", () => {
    buildCli();
    const script = 'const m = await import("ifc-edge-ingest/client"); const c = new m.IngestClient({ url: "http://127.0.0.1:1/" }); console.log(typeof m.ApiError, c.baseUrl);';
    const out = execFileSync(cliNode, ["--input-type=module", "-e", script], { cwd: projectRoot, encoding: "utf8" });
    expect(out.trim()).toBe("function http://127.0.0.1:1");
  });
});
