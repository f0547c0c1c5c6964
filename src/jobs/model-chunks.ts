import { ProcessingError, type ModelSource } from "../processing/processor";
import type { ObjectStorage } from "../storage/object-storage";
import { fixedSizeParts } from "../storage/parts";

/** Rows of 1 MiB: well under SQLite's 2 MB value limit in Durable Objects. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * The job's private copy of the model, in its Durable Object's SQLite storage, so web-ifc
 * can read any range synchronously. Copied from object storage as a stream, chunk by chunk:
 * the whole model is never in memory, and a copy cut short resumes where it stopped.
 *
 * The table exists only while a copy is needed: created by the first copy, dropped once the
 * job is done with it, so a job that never copies (the streaming engine) never has one and a
 * finished job keeps no model bytes.
 */
export class ModelChunks {
  readonly #sql: SqlStorage;
  readonly #chunkBytes: number;

  constructor(sql: SqlStorage, chunkBytes = CHUNK_BYTES) {
    this.#sql = sql;
    this.#chunkBytes = chunkBytes;
  }

  #exists(): boolean {
    return this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'model_chunks'").toArray().length > 0;
  }

  /** Bytes held so far. */
  storedBytes(): number {
    if (!this.#exists()) return 0;
    return this.#sql.exec<{ bytes: number }>("SELECT COALESCE(SUM(length(data)), 0) AS bytes FROM model_chunks").one().bytes;
  }

  /** Copies `key` (of `size` bytes) in, keeping the chunks an earlier attempt already copied. */
  async copyFrom(
    storage: ObjectStorage,
    key: string,
    size: number,
    onProgress?: (bytesDone: number, bytesTotal: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS model_chunks (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    const { count, bytes } = this.#sql
      .exec<{ count: number; bytes: number }>("SELECT COUNT(*) AS count, COALESCE(SUM(length(data)), 0) AS bytes FROM model_chunks")
      .one();
    // Only whole chunks from the start can be resumed from; anything else starts over.
    let offset = bytes === count * this.#chunkBytes || bytes === size ? bytes : 0;
    if (offset === 0) this.#sql.exec("DELETE FROM model_chunks");
    if (offset >= size) return;
    const object = await storage.get(key, { offset }, signal ? { signal } : undefined);
    if (!object) {
      throw new ProcessingError("storage_unavailable", "The uploaded model is no longer in storage; upload it again.");
    }
    let index = offset / this.#chunkBytes;
    for await (const part of fixedSizeParts(object.body, this.#chunkBytes)) {
      // A copy past its deadline stops here: the caller was already answered with a timeout.
      signal?.throwIfAborted();
      this.#sql.exec("INSERT OR REPLACE INTO model_chunks (idx, data) VALUES (?, ?)", index, exactBuffer(part));
      index += 1;
      offset += part.byteLength;
      onProgress?.(offset, size);
    }
    if (offset !== size) {
      this.clear();
      throw new ProcessingError("internal", `Storage returned ${offset} bytes for a model of ${size}; the job will be retried.`, true);
    }
  }

  /** Synchronous reads for web-ifc's callback; at most two chunk rows per read of one chunk's size. */
  source(size: number): ModelSource {
    const chunkBytes = this.#chunkBytes;
    const sql = this.#sql;
    return {
      size,
      read(offset: number, length: number): Uint8Array {
        const end = Math.min(size, offset + length);
        if (end <= offset) return new Uint8Array(0);
        const out = new Uint8Array(end - offset);
        let filled = 0;
        const rows = sql.exec<{ idx: number; data: ArrayBuffer }>(
          "SELECT idx, data FROM model_chunks WHERE idx BETWEEN ? AND ? ORDER BY idx",
          Math.floor(offset / chunkBytes),
          Math.floor((end - 1) / chunkBytes),
        );
        for (const row of rows) {
          const start = row.idx * chunkBytes;
          const bytes = new Uint8Array(row.data);
          const from = Math.max(offset, start);
          const to = Math.min(end, start + bytes.byteLength);
          out.set(bytes.subarray(from - start, to - start), from - offset);
          filled += to - from;
        }
        if (filled !== out.byteLength) {
          throw new ProcessingError("internal", `The job's copy of the model is missing bytes at ${offset}; the job will be retried.`, true, { fault: "infrastructure" });
        }
        return out;
      },
    };
  }

  /** SHA-256 (hex) of the copy, read row by row: one pass, one chunk in memory at a time. */
  async sha256(): Promise<string> {
    const digest = new crypto.DigestStream("SHA-256");
    const writer = digest.getWriter();
    for (const row of this.#sql.exec<{ data: ArrayBuffer }>("SELECT data FROM model_chunks ORDER BY idx")) {
      await writer.write(new Uint8Array(row.data));
    }
    await writer.close();
    return Array.from(new Uint8Array(await digest.digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Drops the copy; the Durable Object's SQLite gives the pages back (its database shrinks). */
  clear(): void {
    this.#sql.exec("DROP TABLE IF EXISTS model_chunks");
  }
}

function exactBuffer(part: Uint8Array): ArrayBuffer {
  if (part.byteOffset === 0 && part.byteLength === part.buffer.byteLength && part.buffer instanceof ArrayBuffer) return part.buffer;
  return part.slice().buffer;
}
