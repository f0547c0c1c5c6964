import { MemoryMultipart } from "./memory-multipart";
import type { ByteRange, GetOptions, ObjectBody, ObjectHead, ObjectStorage, PutOptions } from "./object-storage";

/** For tests and local runs without R2: objects live in this isolate's memory. */
export class MemoryStorage implements ObjectStorage {
  readonly driver = "memory";
  readonly #objects = new Map<string, Uint8Array>();
  readonly multipart = new MemoryMultipart((key, bytes) => this.#objects.set(key, bytes));

  async put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<ObjectHead> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body) {
      options?.signal?.throwIfAborted();
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    this.#objects.set(key, bytes);
    return { key, size };
  }

  async get(key: string, range?: ByteRange, options?: GetOptions): Promise<ObjectBody | null> {
    options?.signal?.throwIfAborted();
    const bytes = this.#objects.get(key);
    if (!bytes) return null;
    const start = Math.min(range?.offset ?? 0, bytes.byteLength);
    const end = range?.length === undefined ? bytes.byteLength : Math.min(start + range.length, bytes.byteLength);
    const slice = bytes.subarray(start, end);
    return {
      key,
      size: bytes.byteLength,
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(slice.slice());
          controller.close();
        },
      }),
    };
  }

  async head(key: string): Promise<ObjectHead | null> {
    const bytes = this.#objects.get(key);
    return bytes ? { key, size: bytes.byteLength } : null;
  }

  async delete(key: string): Promise<void> {
    this.#objects.delete(key);
  }

  async ping(): Promise<void> {}

  keys(): string[] {
    return [...this.#objects.keys()];
  }
}

/** One store per isolate, so the Worker and the job objects it hosts locally see the same data. */
export const isolateMemoryStorage = new MemoryStorage();
