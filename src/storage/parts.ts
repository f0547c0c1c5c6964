/**
 * A failure of the stream being stored (client gone, upload rejected by the inspection),
 * as opposed to a failure of the storage service. Adapters unwrap it so the caller gets
 * the original error, never a storage error it would answer with 503.
 */
export class SourceStreamError extends Error {
  constructor(override readonly cause: unknown) {
    super("source stream failed");
    this.name = "SourceStreamError";
  }
}

/**
 * Regroups a stream into parts of exactly `size` bytes (the last may be shorter), so memory
 * stays at one part however long the stream is. Read errors come out as SourceStreamError.
 */
export async function* fixedSizeParts(body: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let part = new Uint8Array(size);
  let filled = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        throw new SourceStreamError(error);
      }
      if (next.done) break;
      let chunk = next.value;
      while (chunk.byteLength > 0) {
        const take = Math.min(size - filled, chunk.byteLength);
        part.set(chunk.subarray(0, take), filled);
        filled += take;
        chunk = chunk.subarray(take);
        if (filled === size) {
          yield part;
          part = new Uint8Array(size);
          filled = 0;
        }
      }
    }
    if (filled > 0) yield part.subarray(0, filled);
  } finally {
    reader.releaseLock();
  }
}
