import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir, startFixtureServer } from "../setup/fixture-server.ts";

const more = mkdtempSync(join(tmpdir(), "more-fixtures-"));
let url: string;
let server: Server;

beforeAll(async () => {
  writeFileSync(join(more, "extra.ifc"), "ISO-10303-21;\n");
  // Same name as a project model: the project's copy must win.
  writeFileSync(join(more, "test.ifc"), "not the project's test.ifc");
  mkdirSync(join(more, "nested"));
  writeFileSync(join(more, "nested", "deep.ifc"), "deep");
  ({ url, server } = await startFixtureServer({ "generated/big.ifc": join(more, "extra.ifc") }, [fixturesDir, more]));
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(more, { recursive: true, force: true });
});

const get = async (path: string) => {
  const response = await fetch(`${url}/${path}`);
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
};

describe("fixture server", () => {
  it("serves the project's own models byte for byte", async () => {
    for (const path of ["duplex.ifc", "malformed/invalid-index.ifc", "expected.jsonl"]) {
      const { status, bytes } = await get(path);
      expect(status, path).toBe(200);
      expect(bytes).toEqual(new Uint8Array(readFileSync(join(fixturesDir, path))));
    }
  });

  it("adds the models of an extra folder without letting them replace the project's", async () => {
    expect(new TextDecoder().decode((await get("extra.ifc")).bytes)).toBe("ISO-10303-21;\n");
    expect(new TextDecoder().decode((await get("nested/deep.ifc")).bytes)).toBe("deep");
    expect((await get("test.ifc")).bytes).toEqual(new Uint8Array(readFileSync(join(fixturesDir, "test.ifc"))));
  });

  it("serves a generated model under the path it was given", async () => {
    expect(await get("generated/big.ifc")).toMatchObject({ status: 200 });
  });

  it("answers 404 for what no folder has, and for paths that climb out of them", async () => {
    expect((await get("nope.ifc")).status).toBe(404);
    expect((await get("malformed")).status).toBe(404);
    expect((await get("%2e%2e/%2e%2e/package.json")).status).toBe(404);
    expect((await get("..%2f..%2f..%2fpackage.json")).status).toBe(404);
  });
});
