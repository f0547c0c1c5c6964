// `npm run check:deploy`: the generated Env (worker-configuration.d.ts) must match wrangler.toml,
// and the Worker must bundle for deployment under 3 MiB gzip and start far below Cloudflare's
// 1 s startup limit. Fails loudly when any of them drifts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONSOLE_BUDGET_GZIP_KIB, consoleSize } from "./console-size.mjs";

const MAX_GZIP_KIB = 3 * 1024;
const MAX_STARTUP_MS = 400;
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
const out = mkdtempSync(join(tmpdir(), "ifc-deploy-"));
try {
  // The same flags as `npm run types`; a stale file fails here with wrangler's own message.
  execFileSync("npx", ["wrangler", "types", "--env-file=.dev.vars.example", "--include-runtime=false", "--strict-vars=false", "--check"], {
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const dry = execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], { env, encoding: "utf8" });
  const gzip = /gzip:\s*([\d.]+)\s*KiB/.exec(dry);
  if (!gzip) throw new Error(`no bundle size in wrangler output:\n${dry}`);
  const startup = execFileSync("npx", ["wrangler", "check", "startup", "--outfile", join(out, "startup.cpuprofile")], { env, encoding: "utf8" });
  const active = /Active:\s*([\d.]+)\s*ms/.exec(startup);
  if (!active) throw new Error(`no startup time in wrangler output:\n${startup}`);
  const gzipKiB = Number(gzip[1]);
  const startupMs = Number(active[1]);
  console.log(`bundle ${gzipKiB} KiB gzip (limit ${MAX_GZIP_KIB}), startup ${startupMs} ms active CPU (limit ${MAX_STARTUP_MS})`);
  const page = consoleSize();
  console.log(`console page ${page.files.length} files, ${page.gzipKiB.toFixed(1)} KiB gzip (limit ${CONSOLE_BUDGET_GZIP_KIB})`);
  if (gzipKiB > MAX_GZIP_KIB || startupMs > MAX_STARTUP_MS || page.gzipKiB > CONSOLE_BUDGET_GZIP_KIB) process.exit(1);
} finally {
  rmSync(out, { recursive: true, force: true });
}
