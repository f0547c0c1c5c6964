import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "../test/setup/fixture-server.ts";
import { projectRoot } from "../test/support/node/dev-server.ts";

export const generatorPath = join(fixturesDir, "..", "..", "tools", "gen-large-ifc.mjs");

/** A valid model of about `megabytes` MB, made once by gen-large-ifc.mjs and cached in bench/out. */
export function largeModel(megabytes: number, source = "duplex.ifc"): { path: string; bytes: number; copies: number } {
  const dir = join(projectRoot, "bench", "out");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${source.replace(/\.ifc$/, "")}-${megabytes}mb.ifc`);
  const metaPath = `${path}.json`;
  if (!existsSync(path) || !existsSync(metaPath)) {
    console.log(`generating ${megabytes} MB model from ${source} ...`);
    const out = execFileSync(process.execPath, [generatorPath, join(fixturesDir, source), String(megabytes), path], {
      encoding: "utf8",
    });
    execFileSync("sh", ["-c", `cat > '${metaPath}'`], { input: out });
  }
  const meta = JSON.parse(execFileSync("cat", [metaPath], { encoding: "utf8" })) as { copies: number };
  return { path, bytes: statSync(path).size, copies: meta.copies };
}
