import { describe, expect, it } from "vitest";
import { parse, parseSize, UsageError } from "../../src/cli/args.ts";

const env = { IFC_INGEST_TOKEN: "t" };

describe("ifc-ingest arguments", () => {
  it("takes the token and URL from the environment unless given", () => {
    expect(parse(["jobs", "--project", "demo"], { IFC_INGEST_TOKEN: "env-token", IFC_INGEST_URL: "http://127.0.0.1:9" })).toMatchObject({
      command: "jobs",
      token: "env-token",
      url: "http://127.0.0.1:9",
    });
    expect(parse(["jobs", "-p", "demo", "--token", "flag", "--url", "http://h:1"], { IFC_INGEST_TOKEN: "env" })).toMatchObject({ token: "flag", url: "http://h:1", project: "demo" });
    expect(parse(["job", "id"], env).url).toBe("http://127.0.0.1:8787");
  });

  it("reads upload options", () => {
    expect(parse(["upload", "a.ifc", "b.ifc", "-p", "demo", "--wait", "--json", "--parallel", "8", "--session-above", "10MB"], env)).toMatchObject({
      command: "upload",
      args: ["a.ifc", "b.ifc"],
      wait: true,
      json: true,
      parallel: 8,
      sessionAbove: 10_000_000,
    });
  });

  it("answers help for no command and for --help", () => {
    expect(parse([], {}).command).toBe("help");
    expect(parse(["jobs", "--help"], {}).command).toBe("help");
  });

  it("refuses what it cannot run", () => {
    const refused: string[][] = [
      ["frobnicate"],
      ["upload", "-p", "demo"],
      ["upload", "a.ifc"],
      ["jobs"],
      ["jobs", "-p", "demo", "extra"],
      ["job"],
      ["summary", "a", "b"],
      ["jobs", "-p", "demo", "--status", "done"],
      ["jobs", "-p", "demo", "--limit", "0"],
      ["jobs", "-p", "demo", "--url", "not a url"],
      ["jobs", "-p", "demo", "--unknown"],
      ["upload", "a.ifc", "-p", "demo", "--session-above", "lots"],
    ];
    for (const args of refused) expect(() => parse(args, env), args.join(" ")).toThrow(UsageError);
    expect(() => parse(["jobs", "-p", "demo"], {})).toThrow(/no token/);
  });

  it("reads sizes in decimal and binary units", () => {
    expect(parseSize("64MiB")).toBe(64 * 2 ** 20);
    expect(parseSize("100MB")).toBe(100_000_000);
    expect(parseSize("1.5 GiB")).toBe(1.5 * 2 ** 30);
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("8k")).toBe(8000);
  });
});
