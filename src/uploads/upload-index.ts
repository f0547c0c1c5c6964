import { type SessionListing, publicStatus } from "./session-record";

interface IndexRow {
  upload_id: string;
  created_ms: number;
  listing: string;
  [column: string]: SqlStorageValue;
}

export interface ListingPage {
  uploads: SessionListing[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/**
 * The project's list of upload sessions, newest first, kept in the project object's SQLite
 * storage. Each session object writes its own row whenever its status changes.
 */
export class UploadIndex {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, listing TEXT NOT NULL)");
    sql.exec("CREATE INDEX IF NOT EXISTS uploads_newest ON uploads (created_ms DESC, upload_id DESC)");
  }

  record(listing: SessionListing): void {
    this.sql.exec(
      "INSERT INTO uploads (upload_id, created_ms, listing) VALUES (?, ?, ?) ON CONFLICT(upload_id) DO UPDATE SET listing = excluded.listing",
      listing.uploadId,
      Date.parse(listing.createdAt),
      JSON.stringify(listing),
    );
  }

  list(limit: number, cursor: string | undefined, now: number): ListingPage {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = (
      after
        ? this.sql.exec<IndexRow>(
            "SELECT * FROM uploads WHERE created_ms < ? OR (created_ms = ? AND upload_id < ?) ORDER BY created_ms DESC, upload_id DESC LIMIT ?",
            after.createdMs,
            after.createdMs,
            after.uploadId,
            limit + 1,
          )
        : this.sql.exec<IndexRow>("SELECT * FROM uploads ORDER BY created_ms DESC, upload_id DESC LIMIT ?", limit + 1)
    ).toArray();
    const page = rows.slice(0, limit);
    const uploads = page.map((row) => {
      const listing = JSON.parse(row.listing) as SessionListing;
      // An open session past its expiry is shown expired before its alarm has run.
      return { ...listing, status: publicStatus(listing, now) };
    });
    const last = page.at(-1);
    return rows.length > limit && last ? { uploads, nextCursor: encodeCursor(last.created_ms, last.upload_id) } : { uploads };
  }
}

export function encodeCursor(createdMs: number, uploadId: string): string {
  return btoa(`${createdMs}:${uploadId}`).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

/** null for a cursor this service did not make. */
export function decodeCursor(cursor: string): { createdMs: number; uploadId: string } | null {
  try {
    const text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const match = /^(\d{1,15}):([A-Za-z0-9-]{1,64})$/.exec(text);
    return match ? { createdMs: Number(match[1]), uploadId: match[2] ?? "" } : null;
  } catch {
    return null;
  }
}
