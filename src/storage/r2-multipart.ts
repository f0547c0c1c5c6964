import type { BufferBudget } from "./buffer-budget";
import { streamSource } from "../lib/byte-source";
import { partPool } from "./part-pool";
import { SourceStreamError, bodyStream } from "./parts";
import { StorageError, type MultipartCallOptions, type MultipartSessions, type ObjectHead, type PartRef, type StoredPart } from "./object-storage";

/**
 * Upload sessions on the R2 binding. R2 cannot list the parts of an upload, so listParts
 * answers null and callers keep the parts R2 confirmed; R2 checks the ETags on completion.
 */
export class R2Multipart implements MultipartSessions {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly bufferBudget: BufferBudget,
  ) {}

  async create(key: string, options: MultipartCallOptions & { contentType?: string } = {}): Promise<string> {
    const httpMetadata = options.contentType ? { contentType: options.contentType } : undefined;
    const upload = await r2Call("createMultipartUpload", () => this.bucket.createMultipartUpload(key, { httpMetadata }));
    return upload.uploadId;
  }

  /**
   * The part is read into a buffer of the isolate's budget first, reused from part to part, and
   * sent from it as a stream: local R2 (wrangler dev) keeps the bytes of a request body piped
   * into it well past the write, as it does for a streamed put (README, upload memory).
   */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, size: number): Promise<StoredPart> {
    const pool = partPool(this.bufferBudget);
    let buffer = pool.take(size);
    try {
      const source = streamSource(body);
      try {
        const filled = await source.fill(buffer, 0, size);
        buffer = filled.buffer;
        if (filled.end !== size) throw new RangeError(`part ${partNumber} ended after ${filled.end} of its ${size} bytes`);
        if ((await source.fill(new Uint8Array(1), 0, 1)).end > 0) throw new RangeError(`part ${partNumber} is longer than its ${size} bytes`);
      } catch (error) {
        throw error instanceof RangeError ? error : new SourceStreamError(error);
      } finally {
        source.release();
      }
      const bytes = buffer;
      const part = await r2Call("uploadPart", () => this.bucket.resumeMultipartUpload(key, uploadId).uploadPart(partNumber, bodyStream(bytes)));
      return { partNumber: part.partNumber, size, etag: part.etag };
    } finally {
      pool.give(buffer);
    }
  }

  async listParts(): Promise<null> {
    return null;
  }

  async complete(key: string, uploadId: string, parts: PartRef[]): Promise<ObjectHead> {
    const object = await r2Call("completeMultipartUpload", () =>
      this.bucket.resumeMultipartUpload(key, uploadId).complete(parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag }))),
    );
    return { key, size: object.size };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      await r2Call("abortMultipartUpload", () => this.bucket.resumeMultipartUpload(key, uploadId).abort());
    } catch (error) {
      if (error instanceof StorageError && error.code === "no-such-upload") return;
      throw error;
    }
  }
}

/** R2's numbered errors (`... (10024)`) in the domain's words. */
async function r2Call<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const code = /\((\d{5})\)/.exec(message)?.[1];
    if (code === "10024") throw new StorageError(`R2 ${operation}: no such multipart upload`, false, { code: "no-such-upload", cause: error });
    if (code === "10025" || code === "10011") throw new StorageError(`R2 ${operation}: a part is missing, too small or has another ETag`, false, { code: "invalid-part", cause: error });
    // A body that broke off or had the wrong length is the client's, not R2's.
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    throw new StorageError(`R2 ${operation} failed`, true, { cause: error });
  }
}
