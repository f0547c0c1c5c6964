// `npm run build:cli`: the CLI and the client as plain ESM for Node 20+ (types stripped,
// our sources bundled, npm packages left as imports). Also run by `prepare` after npm ci.
import { build } from "esbuild";

const common = { bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", logLevel: "warning", legalComments: "none" };
await build({ ...common, entryPoints: { cli: "src/cli/main.ts", client: "src/client/index.ts" }, outdir: "dist", outExtension: { ".js": ".mjs" } });
