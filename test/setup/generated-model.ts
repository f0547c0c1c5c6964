import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixturesDir } from "./fixture-server.ts";

/** The project's large-model generator (repeats a real model's DATA section with shifted ids). */
export const generatorPath = fileURLToPath(new URL("../../scripts/gen-large-ifc.mjs", import.meta.url));

/**
 * A valid model of about `megabytes` MB (duplex.ifc's DATA repeated by scripts/gen-large-ifc.mjs),
 * made once per machine in the temp folder and reused. The generator renames its output into
 * place only when complete, so a parallel run never reads a half-written file.
 */
export function generatedModel(megabytes: number): string {
  const dir = join(tmpdir(), "ifc-ingest-test-models");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `duplex-${megabytes}mb.ifc`);
  if (!existsSync(path)) {
    execFileSync(process.execPath, [generatorPath, join(fixturesDir, "duplex.ifc"), String(megabytes), path], { stdio: "ignore" });
  }
  return path;
}
