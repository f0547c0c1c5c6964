// `npm run dev [-- wrangler dev flags]`: local development with no cloud account.
import { spawn } from "node:child_process";
import { ensureDevVars } from "./dev-vars.mjs";

if (ensureDevVars()) console.error("created .dev.vars with a random AUTH_JWT_SECRET");
const child = spawn("wrangler", ["dev", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { WRANGLER_SEND_METRICS: "false", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
