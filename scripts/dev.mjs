// `npm run dev [-- wrangler dev flags]`: local development with no cloud account. Once the
// Worker answers, prints a link that opens the web console signed in to the dev project.
import { ensureDevVars } from "./dev-vars.mjs";
import { signDevToken } from "./dev-token.mjs";
import { runTool } from "./toolchain.mjs";

const DEV_PROJECT = "demo";
const CONSOLE_TOKEN_TTL_S = 12 * 3600;

if (ensureDevVars()) console.error("created .dev.vars with a random AUTH_JWT_SECRET");
const args = process.argv.slice(2);
const child = runTool("wrangler", ["dev", ...args]);
announceConsole().catch((error) => console.error(`console link: ${error instanceof Error ? error.message : String(error)}`));

/** The value of a wrangler dev flag given as `--name value` or `--name=value`. */
function flag(name) {
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]?.startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

async function announceConsole() {
  const port = flag("port") ?? "8787";
  const ip = flag("ip");
  const host = !ip || ip === "0.0.0.0" || ip === "::" || ip === "*" ? "localhost" : ip.includes(":") ? `[${ip}]` : ip;
  const origin = `${flag("local-protocol") ?? "http"}://${host}:${port}`;
  while (child.exitCode === null) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  if (child.exitCode !== null) return;
  const token = await signDevToken([DEV_PROJECT], CONSOLE_TOKEN_TTL_S);
  // The token rides in the fragment: never sent to the server, removed from the address bar by the page.
  console.log(`\nConsole (signed in to project ${DEV_PROJECT} for 12 h): ${origin}/#project=${DEV_PROJECT}&token=${token}\n`);
}
