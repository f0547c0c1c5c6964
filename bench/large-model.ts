import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fixturePath } from "../test/setup/fixture-server.ts";
import { generatorPath } from "../test/setup/generated-model.ts";
import { projectRoot } from "../test/support/node/dev-server.ts";

/** A valid model of about `megabytes` MB, made once by scripts/gen-large-ifc.mjs and cached in bench/out. */
export function largeModel(megabytes: number, source = "duplex.ifc"): { path: string; bytes: number; copies: number } {
  const dir = join(projectRoot, "bench", "out");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${source.replace(/\.ifc$/, "")}-${megabytes}mb.ifc`);
  const metaPath = `${path}.json`;
  if (!existsSync(path) || !existsSync(metaPath)) {
    console.log(`generating ${megabytes} MB model from ${source} ...`);
    const sourcePath = fixturePath(`/${source}`);
    if (sourcePath === undefined) throw new Error(`no fixture ${source} in test/fixtures/ifc or IFC_FIXTURES_DIR`);
    const out = execFileSync(process.execPath, [generatorPath, sourcePath, String(megabytes), path], {
      encoding: "utf8",
    });
    execFileSync("sh", ["-c", `cat > '${metaPath}'`], { input: out });
  }
  const meta = JSON.parse(execFileSync("cat", [metaPath], { encoding: "utf8" })) as { copies: number };
  return { path, bytes: statSync(path).size, copies: meta.copies };
}
