import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile, rename } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** What a run needs to find its upload session again after being interrupted. */
export interface SavedSession {
  uploadId: string;
  projectId: string;
  serviceUrl: string;
  path: string;
  size: number;
  mtimeMs: number;
  partSize: number;
  partCount: number;
  createdAt: string;
}

export interface LocalFile {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/** $IFC_INGEST_CACHE_DIR, else $XDG_CACHE_HOME/ifc-ingest, else ~/.cache/ifc-ingest. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IFC_INGEST_CACHE_DIR) return env.IFC_INGEST_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "ifc-ingest");
}

/**
 * One file per (service, project, file, size, modification time): a changed file never
 * resumes an upload of its older bytes.
 */
export class SessionStore {
  constructor(private readonly dir: string) {}

  #file(serviceUrl: string, projectId: string, file: LocalFile): string {
    const key = createHash("sha256").update(JSON.stringify([serviceUrl, projectId, file.path, file.size, file.mtimeMs])).digest("hex").slice(0, 32);
    return join(this.dir, "uploads", `${key}.json`);
  }

  async load(serviceUrl: string, projectId: string, file: LocalFile): Promise<SavedSession | undefined> {
    try {
      const saved = JSON.parse(await readFile(this.#file(serviceUrl, projectId, file), "utf8")) as SavedSession;
      return saved.size === file.size && saved.mtimeMs === file.mtimeMs ? saved : undefined;
    } catch {
      return undefined;
    }
  }

  async save(session: SavedSession, file: LocalFile): Promise<void> {
    const target = this.#file(session.serviceUrl, session.projectId, file);
    await mkdir(join(this.dir, "uploads"), { recursive: true });
    // Written aside and renamed, so a run killed mid-write leaves the old state or the new.
    await writeFile(`${target}.tmp`, JSON.stringify(session, null, 2));
    await rename(`${target}.tmp`, target);
  }

  async forget(serviceUrl: string, projectId: string, file: LocalFile): Promise<void> {
    await rm(this.#file(serviceUrl, projectId, file), { force: true });
  }
}
