#!/usr/bin/env node
// The CLI, built from src/cli by `npm run build:cli` (run by npm ci/install through prepare):
// plain ESM JavaScript for Node 20 and later.
import { existsSync } from "node:fs";

const built = new URL("../dist/cli.mjs", import.meta.url);
if (!existsSync(built)) {
  process.stderr.write("ifc-ingest: dist/cli.mjs is missing; run `npm run build:cli` in the ifc-edge-ingest checkout\n");
  process.exit(2);
}
const { main } = await import(built.href);
process.exitCode = await main(process.argv.slice(2));
