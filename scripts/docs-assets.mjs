// Copies the API reference page's script (@scalar/api-reference's standalone bundle) into the
// Worker's static assets, so /docs works offline and the 4 MB script stays out of the Worker
// bundle. Run by wrangler before dev and deploy ([build] in wrangler.toml) and after npm ci.
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "public", "vendor", "scalar-api-reference.js");
let source;
try {
  const require = createRequire(join(root, "package.json"));
  source = join(dirname(require.resolve("@scalar/api-reference")), "browser", "standalone.js");
} catch {
  source = undefined;
}
if (!source || !existsSync(source)) {
  if (existsSync(target)) process.exit(0);
  console.error("docs-assets: @scalar/api-reference is not installed (npm ci); /docs will not render");
  process.exit(0);
}
if (!existsSync(target) || statSync(target).size !== statSync(source).size || statSync(target).mtimeMs < statSync(source).mtimeMs) {
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
}
