// `npm run --silent token -- <projectId> [more projects...]`: prints a development JWT
// (HS256, valid for 1 h) signed with AUTH_JWT_SECRET from .dev.vars.
import { ensureDevVars, readDevVars } from "./dev-vars.mjs";
import { toolchainEnv } from "./toolchain.mjs";

const projects = process.argv.slice(2);
if (projects.length === 0) {
  console.error("usage: npm run --silent token -- <projectId|*> [projectId...]");
  process.exit(2);
}
ensureDevVars();
const secret = readDevVars().AUTH_JWT_SECRET;
if (!secret) {
  console.error(".dev.vars has no AUTH_JWT_SECRET");
  process.exit(1);
}
// On a fresh clone this installs the dependencies first (progress on stderr only).
toolchainEnv();
const { sign } = await import("hono/jwt");
const now = Math.floor(Date.now() / 1000);
console.log(await sign({ sub: "local-developer", projects, iat: now, exp: now + 3600 }, secret, "HS256"));
