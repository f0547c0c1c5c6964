// `npm run --silent token -- <projectId> [more projects...]`: prints a development JWT
// (HS256, valid for 1 h) signed with AUTH_JWT_SECRET from .dev.vars.
import { signDevToken } from "./dev-token.mjs";
import { toolchainEnv } from "./toolchain.mjs";

const projects = process.argv.slice(2);
if (projects.length === 0) {
  console.error("usage: npm run --silent token -- <projectId|*> [projectId...]");
  process.exit(2);
}
// On a fresh clone this installs the dependencies first (progress on stderr only).
toolchainEnv();
try {
  console.log(await signDevToken(projects, 3600));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
