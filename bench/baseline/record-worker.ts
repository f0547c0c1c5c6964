// Soak floor with one Durable Object per upload: pipes the body into local R2, then writes a
// small record into a new SQLite-backed object named after the upload, as the service's job
// object does. What the local runtime costs per new object, with no service code at all.
import { DurableObject } from "cloudflare:workers";

interface Env {
  BUCKET: R2Bucket;
  RECORDS: DurableObjectNamespace<UploadRecord>;
}

export class UploadRecord extends DurableObject<Env> {
  async record(key: string, size: number): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS upload (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), key TEXT NOT NULL, size INTEGER NOT NULL)");
    sql.exec("INSERT OR REPLACE INTO upload (singleton, key, size) VALUES (1, ?, ?)", key, size);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    if (url.pathname === "/r2" && request.body) {
      const key = `floor/${crypto.randomUUID()}`;
      const object = await env.BUCKET.put(key, request.body);
      await env.RECORDS.get(env.RECORDS.idFromName(key)).record(key, object?.size ?? 0);
      return Response.json({ bytes: object?.size ?? 0 }, { status: 202 });
    }
    return new Response("not found", { status: 404 });
  },
};
