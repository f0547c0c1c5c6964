// A Node client of the upload-session API, as a browser or CLI would use it: create, send the
// parts where the part URLs say (presigned S3 or the service), list, complete. Shared by the
// end-to-end tests and the benchmark.
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { request as httpRequest } from "node:http";

export interface Session {
  uploadId: string;
  partSize: number;
  partCount: number;
  size: number;
  links: { self: string };
}

export interface PartTarget {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ListedSession {
  status: string;
  parts: { partNumber: number; size: number; etag: string }[];
  jobId?: string;
}

export class SessionClient {
  readonly base: string;
  readonly token: string;
  readonly projectId: string;
  readonly viaService: boolean;

  constructor(base: string, token: string, projectId: string, options: { viaService?: boolean } = {}) {
    this.base = base;
    this.token = token;
    this.projectId = projectId;
    this.viaService = options.viaService ?? false;
  }

  async #json<T>(method: string, path: string, body?: unknown, expected = 200): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  create(filename: string, size: number, sha256?: string): Promise<Session> {
    return this.#json("POST", `/v1/projects/${this.projectId}/uploads`, { filename, size, ...(sha256 ? { sha256 } : {}) }, 201);
  }

  /**
   * Where part `partNumber` goes. `viaService` sends it to the service's part endpoint even when
   * storage could take it directly (S3), as a benchmark comparing the two does.
   */
  target(session: Session, partNumber: number): Promise<PartTarget> {
    if (this.viaService) {
      const url = `${this.base}${session.links.self}/parts/${partNumber}`;
      return Promise.resolve({ url, method: "PUT", headers: { authorization: `Bearer ${this.token}` }, expiresAt: "" });
    }
    return this.#json("GET", `${session.links.self}/parts/${partNumber}`);
  }

  list(session: Session): Promise<ListedSession> {
    return this.#json("GET", session.links.self);
  }

  complete(session: Session, parts: { partNumber: number; etag: string }[]): Promise<{ jobId: string; links: { self: string }; upload: { uploadId: string } }> {
    return this.#json("POST", `${session.links.self}/complete`, { parts }, 202);
  }

  job(jobId: string): Promise<Record<string, unknown>> {
    return this.#json("GET", `/v1/jobs/${jobId}`);
  }

  /** The whole summary (summary.json); the job view holds a bounded copy of it. */
  summary(jobId: string): Promise<Record<string, unknown>> {
    return this.#json("GET", `/v1/jobs/${jobId}/summary`);
  }

  async waitForJob(jobId: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.job(jobId);
      if (job.status === "succeeded" || job.status === "failed" || Date.now() > deadline) return job;
      await new Promise((done) => setTimeout(done, 250));
    }
  }

  /** Sends one part of `path` where its part URL says (asked for now, or given); answers the ETag. */
  async sendPart(session: Session, path: string, partNumber: number, located?: Promise<PartTarget>): Promise<string> {
    const target = await (located ?? this.target(session, partNumber));
    const { start, end } = partRange(session, partNumber);
    // One part in memory, as a browser's Blob slice or the SDK's part buffer.
    const body = await readSlice(path, start, end);
    const response = await fetch(target.url, { method: target.method, headers: { ...target.headers, "content-length": String(body.byteLength) }, body });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`part ${partNumber}: ${response.status} ${text}`);
    const etag = response.headers.get("etag");
    if (!etag) throw new Error(`part ${partNumber}: no ETag in the answer`);
    return etag;
  }

  /**
   * Sends `parts` with at most `concurrency` in flight; answers their ETags. Each part's URL is
   * asked for while the part before it is still uploading, as Uppy does.
   */
  async sendParts(session: Session, path: string, parts: number[], concurrency: number): Promise<{ partNumber: number; etag: string }[]> {
    const queue = [...parts];
    const targets = new Map<number, Promise<PartTarget>>();
    const located = (n: number): Promise<PartTarget> => {
      const known = targets.get(n);
      if (known) return known;
      const asked = this.target(session, n);
      // Asked ahead: a failure is reported when the part is sent.
      asked.catch(() => undefined);
      targets.set(n, asked);
      return asked;
    };
    const done: { partNumber: number; etag: string }[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const upcoming = queue[0];
        if (upcoming !== undefined) located(upcoming);
        done.push({ partNumber: next, etag: await this.sendPart(session, path, next, located(next)) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, parts.length) }, worker));
    return done.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Starts part `partNumber` and drops the connection after `bytes` of it, as a client whose
   * network went away; resolves once the socket is gone.
   */
  async cutPart(session: Session, path: string, partNumber: number, bytes: number): Promise<void> {
    const target = await this.target(session, partNumber);
    const { start, end } = partRange(session, partNumber);
    const url = new URL(target.url);
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: "PUT",
      path: url.pathname + url.search,
      headers: { ...target.headers, "content-length": String(end - start) },
    });
    const closed = new Promise<void>((done) => req.once("close", () => done()));
    req.on("error", () => undefined);
    req.on("response", (res) => res.resume());
    for await (const chunk of createReadStream(path, { start, end: start + bytes - 1 })) {
      if (!req.write(chunk)) await new Promise((done) => req.once("drain", done));
    }
    await new Promise((done) => setTimeout(done, 200));
    req.destroy();
    await closed;
  }
}

export function partRange(session: Session, partNumber: number): { start: number; end: number } {
  const start = (partNumber - 1) * session.partSize;
  return { start, end: Math.min(session.size, start + session.partSize) };
}

export const fileSize = (path: string): number => statSync(path).size;

async function readSlice(path: string, start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
  const file = await open(path, "r");
  try {
    const bytes = new Uint8Array(end - start);
    let at = 0;
    while (at < bytes.byteLength) {
      const { bytesRead } = await file.read(bytes, at, bytes.byteLength - at, start + at);
      if (bytesRead === 0) throw new Error(`${path} ended at ${start + at}`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await file.close();
  }
}

/**
 * The copies gen-large-ifc.mjs wrote: one IFCPROJECT per copy. Read in blocks (a 1 GB model is
 * longer than a string may be), keeping a block's tail so a match across blocks is seen once.
 */
export function copiesIn(path: string): number {
  const file = openSync(path, "r");
  const block = Buffer.alloc(16 * 1024 * 1024);
  const TAIL = 64;
  let count = 0;
  let carry = "";
  try {
    for (let read = readSync(file, block); read > 0; read = readSync(file, block)) {
      const text = carry + block.toString("latin1", 0, read);
      // Count matches that start before the kept tail; the tail is searched again with the next block.
      const cut = Math.max(0, text.length - TAIL);
      for (const match of text.matchAll(/=\s*IFCPROJECT\s*\(/g)) if (match.index < cut) count++;
      carry = text.slice(cut);
    }
    count += carry.match(/=\s*IFCPROJECT\s*\(/g)?.length ?? 0;
  } finally {
    closeSync(file);
  }
  return count;
}
