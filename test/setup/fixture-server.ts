import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the shared IFC fixtures live; IFC_FIXTURES_DIR overrides. */
export const fixturesDir = resolve(
  process.env.IFC_FIXTURES_DIR ?? fileURLToPath(new URL("../../../shared/fixtures/ifc", import.meta.url)),
);

/**
 * Tests inside workerd cannot read the file system: this serves the fixture folder
 * read-only on 127.0.0.1 so they can fetch the real models, plus `extra` files (URL path
 * without the leading slash -> file), e.g. models generated for the run.
 */
export async function startFixtureServer(extra: Record<string, string> = {}): Promise<{ url: string; server: Server }> {
  if (!existsSync(`${fixturesDir}/expected.jsonl`)) {
    throw new Error(`IFC fixtures not found in ${fixturesDir} (set IFC_FIXTURES_DIR)`);
  }
  const server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const extraFile = Object.hasOwn(extra, urlPath.slice(1)) ? extra[urlPath.slice(1)] : undefined;
    const path = extraFile ?? resolve(fixturesDir, `.${urlPath}`);
    const allowed = extraFile !== undefined || path.startsWith(fixturesDir + sep);
    if (!allowed || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": statSync(path).size, "content-type": "application/octet-stream" });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fixture server has no port");
  return { url: `http://127.0.0.1:${address.port}`, server };
}
