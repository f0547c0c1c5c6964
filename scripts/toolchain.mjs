// Makes a fresh clone runnable by `npm run dev` / `npm test` alone: wrangler, Miniflare and
// vitest 5 need Node >= 22, so an older Node gets a Node 22 from the npm registry in
// .tools/node22 (ignored by git), and missing dependencies are installed with `npm ci`.
// Progress goes to stderr, so `npm run --silent token` still prints only the token.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const localNode = `${root}.tools/node22/node_modules/.bin`;

function runOrExit(command, args, env) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: ["ignore", 2, 2] });
  if (result.status !== 0) {
    console.error(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

/** The environment to run project tools in: Node 22 first on PATH, dependencies installed. */
export function toolchainEnv() {
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  if (Number(process.versions.node.split(".")[0]) < 22) {
    if (!existsSync(`${localNode}/node`)) {
      console.error(`Node ${process.versions.node} is too old for wrangler and vitest; installing Node 22 into .tools/node22 ...`);
      runOrExit("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", ".tools/node22", "node@22"], env);
    }
    env.PATH = `${localNode}:${env.PATH ?? ""}`;
  }
  if (!existsSync(`${root}node_modules/.bin/wrangler`) || !existsSync(`${root}node_modules/.bin/vitest`)) {
    console.error("installing dependencies (npm ci) ...");
    runOrExit("npm", ["ci", "--no-audit", "--no-fund"], env);
  }
  env.PATH = `${root}node_modules/.bin:${env.PATH ?? ""}`;
  return env;
}

/** Runs a project tool with that environment and exits with its exit code. */
export function runTool(command, args) {
  const child = spawn(command, args, { cwd: root, env: toolchainEnv(), stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return child;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error("usage: node scripts/toolchain.mjs COMMAND [ARGS...]");
    process.exit(2);
  }
  runTool(command, args);
}
