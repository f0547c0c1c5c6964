import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { AcceptedUpload, JobRecord } from "./job-record";

export type Reservation =
  | { state: "reserved" }
  | { state: "in-progress"; projectId: string }
  | { state: "accepted"; projectId: string; reply: AcceptedUpload };

/** How long a reservation without an accepted upload blocks a retry with the same key. */
const RESERVATION_TTL_MS = 15 * 60 * 1000;

/**
 * One object per job. Holds the job record in its SQLite storage; with an Idempotency-Key
 * the job id is derived from the key, so this object is also the key's idempotency record.
 */
export class JobObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  #read<T>(name: string): T | undefined {
    const row = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM state WHERE name = ?", name).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  #write(name: string, value: unknown): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      name,
      JSON.stringify(value),
    );
  }

  /** Claims this job id for an upload. Answers what an earlier claim left, if any. */
  async reserve(projectId: string, now: number): Promise<Reservation> {
    const reply = this.#read<AcceptedUpload>("reply");
    if (reply) return { state: "accepted", projectId: reply.projectId, reply };
    const held = this.#read<{ projectId: string; at: number }>("reservation");
    if (held && now - held.at < RESERVATION_TTL_MS) return { state: "in-progress", projectId: held.projectId };
    this.#write("reservation", { projectId, at: now });
    return { state: "reserved" };
  }

  /** Frees a reservation whose upload failed, so the client may retry with the same key. */
  async release(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM state WHERE name = 'reservation'");
  }

  async accept(record: JobRecord, reply: AcceptedUpload): Promise<void> {
    this.#write("record", record);
    this.#write("reply", reply);
    this.ctx.storage.sql.exec("DELETE FROM state WHERE name = 'reservation'");
  }

  async record(): Promise<JobRecord | null> {
    return this.#read<JobRecord>("record") ?? null;
  }
}
