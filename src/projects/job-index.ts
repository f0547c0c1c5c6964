import type { JobList, JobListItem } from "../api/jobs";
import { type JobCursor, encodeCursor } from "./job-cursor";

export interface JobListQuery {
  status?: JobListItem["status"];
  limit: number;
  cursor?: JobCursor;
}

interface IndexRow {
  job_id: string;
  status: string;
  created_at: string;
  updated_at: string;
  item: string;
  [column: string]: SqlStorageValue;
}

/**
 * A project's jobs as listed (the job view without its summary), newest first. The job
 * objects own the truth and push their view here; an older view never replaces a newer one,
 * so pushes may repeat or arrive out of order.
 */
export class JobIndex {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS job_index (
      job_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      item TEXT NOT NULL
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS job_index_newest ON job_index (created_at DESC, job_id DESC)");
  }

  /** Applies the job's view if it is not older than what is held; one statement, so atomic. */
  put(item: JobListItem): void {
    this.sql.exec(
      `INSERT INTO job_index (job_id, status, created_at, updated_at, item) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(job_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, item = excluded.item
       WHERE excluded.updated_at >= job_index.updated_at`,
      item.jobId,
      item.status,
      item.createdAt,
      item.updatedAt,
      JSON.stringify(item),
    );
  }

  remove(jobId: string): boolean {
    return this.sql.exec("DELETE FROM job_index WHERE job_id = ?", jobId).rowsWritten > 0;
  }

  list(query: JobListQuery): JobList {
    const where: string[] = [];
    const bindings: SqlStorageValue[] = [];
    if (query.status) {
      where.push("status = ?");
      bindings.push(query.status);
    }
    if (query.cursor) {
      where.push("(created_at < ? OR (created_at = ? AND job_id < ?))");
      bindings.push(query.cursor.createdAt, query.cursor.createdAt, query.cursor.jobId);
    }
    const rows = this.sql
      .exec<IndexRow>(
        `SELECT * FROM job_index ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, job_id DESC LIMIT ?`,
        ...bindings,
        query.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => JSON.parse(row.item) as JobListItem),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.created_at, jobId: last.job_id }) : null,
    };
  }
}
