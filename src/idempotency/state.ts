import type { AcceptedUpload } from "../jobs/record";

/** What a request with an Idempotency-Key asks of the key's record. */
export interface KeyClaimRequest {
  projectId: string;
  /** A token of the request's own: only it may renew, complete or release what it holds. */
  owner: string;
  /** The job id this request would use: kept if the key is new, or taken over. */
  jobId: string;
  now: number;
  /** When the record goes, unless renewed or completed later (now + IDEMPOTENCY_TTL). */
  expiresAt: number;
  /** An owner silent (no renewal) for this long is taken for dead: its request no longer lives. */
  takeoverMs: number;
}

/** What the key's record answered. */
export type KeyClaim =
  /** This request holds the key. `previousJobId`: an owner taken for dead used that job id. */
  | { state: "claimed"; jobId: string; previousJobId?: string }
  /** Another request holds it and is alive. */
  | { state: "in-flight" }
  /** A request with this key finished: its fingerprint and its reply. */
  | { state: "done"; fingerprint: string; reply: AcceptedUpload };

interface KeyRow {
  project_id: string;
  job_id: string;
  owner: string | null;
  renewed_at: number | null;
  fingerprint: string | null;
  reply: string | null;
  expires_at: number;
  [column: string]: SqlStorageValue;
}

/**
 * The record of one Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), one row in
 * the key's own object: who holds the key, and once a request with it finished, the request's
 * fingerprint and the reply to replay. Every change is one transaction; an expired record
 * counts as absent.
 */
export class IdempotencyKeyState {
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS idempotency_key (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        project_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        owner TEXT,
        renewed_at INTEGER,
        fingerprint TEXT,
        reply TEXT,
        expires_at INTEGER NOT NULL
      )`);
  }

  #row(now: number): KeyRow | null {
    const row = this.#storage.sql.exec<KeyRow>("SELECT * FROM idempotency_key").toArray()[0];
    return row && row.expires_at > now ? row : null;
  }

  claim(request: KeyClaimRequest): KeyClaim {
    return this.#storage.transactionSync((): KeyClaim => {
      const row = this.#row(request.now);
      if (row && row.fingerprint !== null && row.reply !== null) {
        return { state: "done", fingerprint: row.fingerprint, reply: JSON.parse(row.reply) as AcceptedUpload };
      }
      if (row && request.now - (row.renewed_at ?? 0) < request.takeoverMs) return { state: "in-flight" };
      this.#storage.sql.exec(
        `INSERT OR REPLACE INTO idempotency_key (singleton, project_id, job_id, owner, renewed_at, fingerprint, reply, expires_at)
           VALUES (1, ?, ?, ?, ?, NULL, NULL, ?)`,
        request.projectId,
        request.jobId,
        request.owner,
        request.now,
        request.expiresAt,
      );
      return row ? { state: "claimed", jobId: request.jobId, previousJobId: row.job_id } : { state: "claimed", jobId: request.jobId };
    });
  }

  /** The owner's sign of life; false when the key is no longer its own (taken over, expired). */
  renew(owner: string, now: number, expiresAt: number): boolean {
    return this.#storage.transactionSync(() => {
      const changed = this.#storage.sql.exec(
        "UPDATE idempotency_key SET renewed_at = ?, expires_at = MAX(expires_at, ?) WHERE owner = ? AND fingerprint IS NULL AND expires_at > ?",
        now,
        expiresAt,
        owner,
        now,
      );
      return changed.rowsWritten > 0;
    });
  }

  /** The owner's request finished: its reply is what the key answers from now on. */
  complete(owner: string, fingerprint: string, reply: AcceptedUpload, now: number, expiresAt: number): boolean {
    return this.#storage.transactionSync(() => {
      const changed = this.#storage.sql.exec(
        `UPDATE idempotency_key SET owner = NULL, renewed_at = NULL, fingerprint = ?, reply = ?, expires_at = ?
           WHERE owner = ? AND fingerprint IS NULL AND expires_at > ?`,
        fingerprint,
        JSON.stringify(reply),
        expiresAt,
        owner,
        now,
      );
      return changed.rowsWritten > 0;
    });
  }

  /** The owner's request failed: the key is free again. Answers whether it was the owner's. */
  release(owner: string): boolean {
    return this.#storage.transactionSync(
      () => this.#storage.sql.exec("DELETE FROM idempotency_key WHERE owner = ? AND fingerprint IS NULL", owner).rowsWritten > 0,
    );
  }

  /** When the record goes; null when there is none. */
  expiresAt(): number | null {
    return this.#storage.sql.exec<{ at: number }>("SELECT expires_at AS at FROM idempotency_key").toArray()[0]?.at ?? null;
  }
}
