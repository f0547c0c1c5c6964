import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../setup/fixture-server.ts";
import { generatorPath } from "../setup/generated-model.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "gen-large-ifc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Generated {
  out: string;
  bytes: number;
  copies: number;
}

async function generate(source: string, megabytes: number, name: string): Promise<{ result: Generated; text: string }> {
  const out = join(dir, name);
  const { stdout } = await run(process.execPath, [generatorPath, source, String(megabytes), out]);
  return { result: JSON.parse(stdout) as Generated, text: readFileSync(out, "latin1") };
}

const definedIds = (text: string): number[] => [...text.matchAll(/^#(\d+)\s*=/gm)].map((match) => Number(match[1]));

describe("scripts/gen-large-ifc.mjs", () => {
  it("repeats a real model's instances with new ids until the target size", async () => {
    const source = join(fixturesDir, "IfcOpenHouse_IFC4.ifc");
    const reference = JSON.parse(
      readFileSync(join(fixturesDir, "expected.jsonl"), "utf8")
        .split("\n")
        .find((line) => line.includes('"IfcOpenHouse_IFC4.ifc"')) ?? "null",
    ) as { entities: number };
    const { result, text } = await generate(source, 1, "house.ifc");

    expect(result.copies).toBeGreaterThan(1);
    expect(result.bytes).toBe(statSync(result.out).size);
    // Just enough copies: one fewer would stay under the target.
    const oneCopy = (text.lastIndexOf("ENDSEC;") - text.indexOf("DATA;")) / result.copies;
    expect(result.bytes).toBeGreaterThanOrEqual(1e6);
    expect(result.bytes - oneCopy).toBeLessThan(1e6);
    const ids = definedIds(text);
    expect(ids).toHaveLength(reference.entities * result.copies);
    expect(new Set(ids).size).toBe(ids.length);
    expect(text.match(/^ISO-10303-21;/gm)).toHaveLength(1);
    expect(text.match(/^DATA;/gm)).toHaveLength(1);
    expect(text.trimEnd().endsWith("END-ISO-10303-21;")).toBe(true);
  });

  it("shifts references but not '#' inside strings or comments, and keeps dangling references apart", async () => {
    const source = join(dir, "tiny.ifc");
    writeFileSync(
      source,
      [
        "ISO-10303-21;",
        "HEADER;FILE_SCHEMA(('IFC2X3'));ENDSEC;",
        "DATA;",
        "#1=IFCLABEL('Door #3 of ''#4''');",
        "/* #1 is a comment */",
        "#2=IFCWALL(#1,(#1,#9));",
        "ENDSEC;",
        "END-ISO-10303-21;",
        "",
      ].join("\n"),
    );
    const { result, text } = await generate(source, 0.0005, "tiny-copies.ifc");

    expect(result.copies).toBeGreaterThan(1);
    // The highest id referenced (#9, never defined) sets the stride, so copy 2 starts at #10
    // and copy 1's dangling #9 never points into copy 2.
    expect(text).toContain("#11=IFCLABEL('Door #3 of ''#4''');");
    expect(text).toContain("/* #1 is a comment */");
    expect(text).toContain("#12=IFCWALL(#11,(#11,#19));");
    expect(text.match(/IFCLABEL\('Door #3 of ''#4'''\)/g)).toHaveLength(result.copies);
  });

  it("leaves no partial file behind and refuses a file without a DATA section", async () => {
    const source = join(dir, "no-data.ifc");
    writeFileSync(source, "ISO-10303-21;\nHEADER;ENDSEC;\nEND-ISO-10303-21;\n");
    await expect(run(process.execPath, [generatorPath, source, "1", join(dir, "never.ifc")])).rejects.toThrow(/no DATA section/);
    expect(readdirSync(dir).filter((name) => name.includes("never") || name.endsWith(".partial"))).toEqual([]);
  });

  it("explains its usage when arguments are missing", async () => {
    await expect(run(process.execPath, [generatorPath])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("usage:") });
  });
});
