// Creates .dev.vars from .dev.vars.example on first use, with a fresh random secret, and
// reads it back; shared by `npm run dev` and `npm run token`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const devVarsPath = `${root}.dev.vars`;

export function ensureDevVars() {
  if (existsSync(devVarsPath)) return false;
  const template = readFileSync(`${root}.dev.vars.example`, "utf8");
  writeFileSync(devVarsPath, template.replaceAll("__generated__", randomBytes(32).toString("base64url")), { mode: 0o600 });
  return true;
}

export function readDevVars() {
  const vars = {};
  for (const line of readFileSync(devVarsPath, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}
