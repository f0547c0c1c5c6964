import type { AcceptedUpload } from "../jobs/record";
import type { StoredPart } from "../storage/object-storage";
import type { SessionStatus, UploadSession } from "./session-record";

interface SessionRow {
  upload_id: string;
  project_id: string;
  filename: string;
  object_key: string;
  job_id: string;
  size: number;
  part_size: number;
  part_count: number;
  sha256: string | null;
  storage_upload_id: string;
  status: SessionStatus;
  created_at: string;
  expires_at: string;
  reply: string | null;
  idempotent: number;
  /** ms since epoch; a completion running since then holds the session. */
  completing_since: number | null;
  /** 1 while the store's multipart upload still has to be aborted. */
  cleanup_pending: number;
  cleanup_attempts: number;
  [column: string]: SqlStorageValue;
}

interface PartRow {
  part_number: number;
  size: number;
  etag: string;
  [column: string]: SqlStorageValue;
}

export interface Housekeeping {
  completingSince: number | null;
  cleanupPending: boolean;
  cleanupAttempts: number;
}

/** The session's typed SQLite state: one session row, one row per part the store confirmed. */
export class SessionTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS session (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      upload_id TEXT NOT NULL, project_id TEXT NOT NULL, filename TEXT NOT NULL, object_key TEXT NOT NULL,
      job_id TEXT NOT NULL, size INTEGER NOT NULL, part_size INTEGER NOT NULL, part_count INTEGER NOT NULL,
      sha256 TEXT, storage_upload_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL, reply TEXT, idempotent INTEGER NOT NULL, completing_since INTEGER,
      cleanup_pending INTEGER NOT NULL DEFAULT 0, cleanup_attempts INTEGER NOT NULL DEFAULT 0
    )`);
    sql.exec("CREATE TABLE IF NOT EXISTS parts (part_number INTEGER PRIMARY KEY, size INTEGER NOT NULL, etag TEXT NOT NULL)");
  }

  #row(): SessionRow | undefined {
    return this.sql.exec<SessionRow>("SELECT * FROM session WHERE singleton = 1").toArray()[0];
  }

  session(): UploadSession | null {
    const row = this.#row();
    if (!row) return null;
    return {
      uploadId: row.upload_id,
      projectId: row.project_id,
      filename: row.filename,
      objectKey: row.object_key,
      jobId: row.job_id,
      size: row.size,
      partSize: row.part_size,
      partCount: row.part_count,
      ...(row.sha256 === null ? {} : { sha256: row.sha256 }),
      storageUploadId: row.storage_upload_id,
      status: row.status,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      ...(row.reply === null ? {} : { reply: JSON.parse(row.reply) as AcceptedUpload }),
      idempotent: row.idempotent === 1,
    };
  }

  housekeeping(): Housekeeping {
    const row = this.#row();
    return {
      completingSince: row?.completing_since ?? null,
      cleanupPending: row?.cleanup_pending === 1,
      cleanupAttempts: row?.cleanup_attempts ?? 0,
    };
  }

  insert(session: UploadSession): void {
    this.sql.exec(
      `INSERT INTO session (singleton, upload_id, project_id, filename, object_key, job_id, size, part_size, part_count,
         sha256, storage_upload_id, status, created_at, expires_at, reply, idempotent)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
      session.uploadId,
      session.projectId,
      session.filename,
      session.objectKey,
      session.jobId,
      session.size,
      session.partSize,
      session.partCount,
      session.sha256 ?? null,
      session.storageUploadId,
      session.status,
      session.createdAt,
      session.expiresAt,
      session.idempotent ? 1 : 0,
    );
  }

  setStatus(status: SessionStatus, completingSince: number | null = null): void {
    this.sql.exec("UPDATE session SET status = ?, completing_since = ?", status, completingSince);
  }

  setReply(reply: AcceptedUpload): void {
    this.sql.exec("UPDATE session SET status = 'completed', completing_since = NULL, reply = ?", JSON.stringify(reply));
  }

  setCleanup(pending: boolean, attempts: number): void {
    this.sql.exec("UPDATE session SET cleanup_pending = ?, cleanup_attempts = ?", pending ? 1 : 0, attempts);
  }

  putPart(part: StoredPart): void {
    this.sql.exec(
      "INSERT INTO parts (part_number, size, etag) VALUES (?, ?, ?) ON CONFLICT(part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag",
      part.partNumber,
      part.size,
      part.etag,
    );
  }

  parts(): StoredPart[] {
    return this.sql
      .exec<PartRow>("SELECT part_number, size, etag FROM parts ORDER BY part_number")
      .toArray()
      .map((row) => ({ partNumber: row.part_number, size: row.size, etag: row.etag }));
  }
}
