// `npm run dev [-- wrangler dev flags]`: local development with no cloud account.
import { ensureDevVars } from "./dev-vars.mjs";
import { runTool } from "./toolchain.mjs";

if (ensureDevVars()) console.error("created .dev.vars with a random AUTH_JWT_SECRET");
runTool("wrangler", ["dev", ...process.argv.slice(2)]);
