import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's own IFC models (test/fixtures/ifc): every test and benchmark needs only these. */
export const fixturesDir = fileURLToPath(new URL("../fixtures/ifc", import.meta.url));

/**
 * A folder of more models (IFC_FIXTURES_DIR), served where the project has no file of that name.
 * It only adds: the project's models always win, and nothing requires it.
 */
export const extraFixturesDir = process.env.IFC_FIXTURES_DIR ? resolve(process.env.IFC_FIXTURES_DIR) : undefined;

/** Where fixtures are looked up, in order: the project's folder, then IFC_FIXTURES_DIR if set. */
export const fixtureDirs: readonly string[] = extraFixturesDir === undefined ? [fixturesDir] : [fixturesDir, extraFixturesDir];

/** The file a fixture URL path names, from the first folder that has it; never outside them. */
export function fixturePath(urlPath: string, dirs: readonly string[] = fixtureDirs): string | undefined {
  for (const dir of dirs) {
    const path = resolve(dir, `.${urlPath}`);
    if (path.startsWith(dir + sep) && existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

/**
 * Tests inside workerd cannot read the file system: this serves the fixture folders
 * read-only on 127.0.0.1 so they can fetch the real models, plus `extra` files (URL path
 * without the leading slash -> file), e.g. models generated for the run.
 */
export async function startFixtureServer(
  extra: Record<string, string> = {},
  dirs: readonly string[] = fixtureDirs,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const path = Object.hasOwn(extra, urlPath.slice(1)) ? extra[urlPath.slice(1)] : fixturePath(urlPath, dirs);
    if (path === undefined || !existsSync(path)) {
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
