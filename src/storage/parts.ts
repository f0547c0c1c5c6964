import { type ByteSource, type Filled, streamSource } from "../streams/byte-source";

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
 * stays at one part however long the stream is. Each part is a fresh buffer the caller may
 * keep. Read errors come out as SourceStreamError.
 */
export async function* fixedSizeParts(body: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const source = streamSource(body);
  try {
    yield* parts(source, size);
  } finally {
    source.release();
  }
}

async function* parts(source: ByteSource, size: number): AsyncGenerator<Uint8Array> {
  for (;;) {
    let filled: Filled;
    try {
      filled = await source.fill(new Uint8Array(size), 0, size);
    } catch (error) {
      throw new SourceStreamError(error);
    }
    if (filled.end === size) {
      yield filled.buffer;
      continue;
    }
    if (filled.end > 0) yield filled.buffer.subarray(0, filled.end);
    return;
  }
}
