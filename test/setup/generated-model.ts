import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturesDir } from "./fixture-server.ts";

/**
 * A valid model of about `megabytes` MB (duplex.ifc's DATA repeated by the shared generator),
 * made once per machine in the temp folder and reused.
 */
export function generatedModel(megabytes: number): string {
  const dir = join(tmpdir(), "ifc-ingest-test-models");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `duplex-${megabytes}mb.ifc`);
  if (!existsSync(path)) {
    const generator = join(fixturesDir, "..", "..", "tools", "gen-large-ifc.mjs");
    // Written under another name first, so a parallel run never reads a half-written file.
    const partial = `${path}.${process.pid}.tmp`;
    execFileSync(process.execPath, [generator, join(fixturesDir, "duplex.ifc"), String(megabytes), partial], { stdio: "ignore" });
    renameSync(partial, path);
  }
  return path;
}
