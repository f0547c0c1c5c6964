import type { ByteRange, GetOptions, ObjectBody, ObjectHead, ObjectStorage, PutOptions } from "./object-storage";
import { StorageError, abortable } from "./object-storage";
import { type BufferBudget, PartBuffers, isolateBufferBudget } from "./buffer-budget";
import { R2Multipart } from "./r2-multipart";
import { bodyStream, fixedSizeParts, unwrapSource, withBoundedBody } from "./parts";

/** R2 needs equal-sized parts (all but the last) of at least 5 MiB. */
export const R2_PART_SIZE = 8 * 1024 * 1024;
/**
 * A body of known length up to one part goes up with one streamed put; anything longer, or of
 * unknown length, as a multipart upload, one part in flight from one reused buffer. Local R2
 * (wrangler dev) holds a streamed put's bytes well past the write, while multipart stays flat
 * (docs/performance.md); in production the two cost the same memory, and multipart one
 * operation per part.
 */
export class R2Storage implements ObjectStorage {
  readonly driver = "r2";
  readonly multipart: R2Multipart;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly partSize = R2_PART_SIZE,
    private readonly bufferBudget: BufferBudget = isolateBufferBudget(),
  ) {
    this.multipart = new R2Multipart(bucket, bufferBudget);
  }

  /**
   * R2's calls take no signal: on abort the caller is answered at once with the signal's
   * reason, and the work left behind ends with its body (the caller aborts that too).
   */
  put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<ObjectHead> {
    return abortable(this.#put(key, body, options), options.signal);
  }

  async #put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<ObjectHead> {
    const httpMetadata = options.contentType ? { contentType: options.contentType } : undefined;
    const { signal } = options;
    if (options.contentLength !== undefined && options.contentLength <= this.partSize) {
      const object = await this.#call("put", () => this.bucket.put(key, body, { httpMetadata }), signal);
      if (!object) throw new StorageError(`R2 refused the write of ${key}`, false);
      return { key, size: object.size };
    }
    if (options.maxLength !== undefined && options.maxLength < this.partSize) {
      return withBoundedBody(body, options.maxLength, this.bufferBudget, async (bytes) => {
        const object = await this.#call("put", () => this.bucket.put(key, bodyStream(bytes), { httpMetadata }), signal);
        if (!object) throw new StorageError(`R2 refused the write of ${key}`, false);
        return { key, size: object.size };
      });
    }
    return this.#putMultipart(key, body, httpMetadata, signal);
  }

  async #putMultipart(
    key: string,
    body: ReadableStream<Uint8Array>,
    httpMetadata: R2HTTPMetadata | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ObjectHead> {
    // One part buffer, filled again for each part: parts go up one at a time. Taken first, so
    // an isolate out of buffer budget refuses the upload before R2 is asked for anything.
    const buffers = new PartBuffers(this.bufferBudget, this.partSize);
    let reserved: Uint8Array | undefined = await buffers.take();
    const allocate = (): Uint8Array | Promise<Uint8Array> => {
      const buffer = reserved ?? buffers.take();
      reserved = undefined;
      return buffer;
    };
    try {
      const upload = await this.#call("createMultipartUpload", () => this.bucket.createMultipartUpload(key, { httpMetadata }), signal);
      const parts: R2UploadedPart[] = [];
      let size = 0;
      try {
        for await (const part of fixedSizeParts(body, this.partSize, allocate)) {
          parts.push(await this.#call("uploadPart", () => upload.uploadPart(parts.length + 1, bodyStream(part)), signal));
          size += part.byteLength;
          buffers.give(part);
        }
        if (parts.length === 0) {
          parts.push(await this.#call("uploadPart", () => upload.uploadPart(1, new Uint8Array(0)), signal));
        }
        await this.#call("completeMultipartUpload", () => upload.complete(parts), signal);
        return { key, size };
      } catch (error) {
        await upload.abort().catch(() => undefined);
        // A failure of the source stream (client gone, upload rejected) is not R2's fault:
        // the caller gets that error as it was.
        throw unwrapSource(error);
      }
    } finally {
      buffers.release();
    }
  }

  async get(key: string, range?: ByteRange, options: GetOptions = {}): Promise<ObjectBody | null> {
    const object = await this.#call(
      "get",
      () => this.bucket.get(key, range ? { range: { offset: range.offset, length: range.length } } : undefined),
      options.signal,
    );
    if (!object) return null;
    return { key, size: object.size, body: object.body };
  }

  async head(key: string): Promise<ObjectHead | null> {
    const object = await this.#call("head", () => this.bucket.head(key));
    return object ? { key, size: object.size } : null;
  }

  async delete(key: string): Promise<void> {
    await this.#call("delete", () => this.bucket.delete(key));
  }

  async ping(): Promise<void> {
    await this.#call("list", () => this.bucket.list({ limit: 1 }));
  }

  /** `signal`: the caller's deadline; R2 calls take none, so the wait for them ends instead. */
  async #call<T>(operation: string, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await abortable(call(), signal);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      // The caller's own deadline, as it gave it: not something R2 said.
      if (signal?.aborted === true && error === signal.reason) throw error;
      throw new StorageError(`R2 ${operation} failed`, true, { cause: error });
    }
  }
}
