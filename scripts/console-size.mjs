// The web console's page bundle: every file in public/ the browser loads for the console
// (vendor/ holds the API reference page's script, which the console never loads), summed
// raw and gzip-compressed file by file, as served. `node scripts/console-size.mjs` prints it;
// check:deploy fails above the budget.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const CONSOLE_BUDGET_GZIP_KIB = 40;
const root = fileURLToPath(new URL("../public", import.meta.url));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "vendor" ? [] : files(path);
    return name.startsWith("_") ? [] : [path];
  });
}

export function consoleSize() {
  let raw = 0;
  let gzip = 0;
  const list = files(root);
  for (const path of list) {
    const bytes = readFileSync(path);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: list.map((path) => relative(root, path)).sort(), rawKiB: raw / 1024, gzipKiB: gzip / 1024 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = consoleSize();
  console.log(`console: ${size.files.length} files, ${size.rawKiB.toFixed(1)} KiB, ${size.gzipKiB.toFixed(1)} KiB gzip (budget ${CONSOLE_BUDGET_GZIP_KIB})`);
}
