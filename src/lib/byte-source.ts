/** The bytes read by one `fill`: `buffer[from, end)` holds them. */
export interface Filled {
  /** The buffer to use from now on: a BYOB read transfers the one passed in, which is then detached. */
  buffer: Uint8Array;
  end: number;
}

/**
 * A body read into buffers the reader owns, so a long upload allocates a few blocks once
 * instead of one fresh ArrayBuffer per network chunk.
 */
export interface ByteSource {
  /**
   * Reads into `buffer` (a view of a whole ArrayBuffer) from index `from` until at least `min`
   * bytes have arrived or the body ends; fewer than `min` means the body has ended.
   */
  fill(buffer: Uint8Array, from: number, min: number): Promise<Filled>;
  cancel(reason: unknown): Promise<void>;
}

export interface StreamSource extends ByteSource {
  /** Lets go of the stream (unread bytes stay in it), so its owner can cancel it. */
  release(): void;
}

/**
 * Reads a ReadableStream as a ByteSource. Byte streams (request bodies, IdentityTransformStream
 * and FixedLengthStream readables) are read with workerd's BYOB `readAtLeast`, which copies
 * straight into the caller's buffer in one call per block. Read chunk by chunk, a request body
 * arrives in small pieces, each a fresh buffer left to the GC: slower, and the garbage raises
 * resident memory (docs/performance.md). Other streams are read chunk by chunk and copied in.
 */
export function streamSource(stream: ReadableStream<Uint8Array>): StreamSource {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    return new ChunkSource(stream.getReader());
  }
  return new ByobSource(byob);
}

class ByobSource implements StreamSource {
  #ended = false;

  constructor(readonly reader: ReadableStreamBYOBReader) {}

  async fill(buffer: Uint8Array, from: number, min: number): Promise<Filled> {
    let end = from;
    while (!this.#ended && end - from < min && end < buffer.byteLength) {
      const view = buffer.subarray(end);
      const next = await this.reader.readAtLeast(Math.min(min - (end - from), view.byteLength), view);
      if (next.value) {
        buffer = new Uint8Array(next.value.buffer);
        end += next.value.byteLength;
      } else {
        // A cancelled stream hands no buffer back: the old one stays detached.
        buffer = new Uint8Array(buffer.byteLength);
      }
      if (next.done) this.#ended = true;
    }
    return { buffer, end };
  }

  async cancel(reason: unknown): Promise<void> {
    this.#ended = true;
    await this.reader.cancel(reason);
  }

  release(): void {
    this.reader.releaseLock();
  }
}

class ChunkSource implements StreamSource {
  #pending: Uint8Array | undefined;
  #ended = false;

  constructor(readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async fill(buffer: Uint8Array, from: number, min: number): Promise<Filled> {
    let end = from;
    while (end - from < min && end < buffer.byteLength) {
      let chunk = this.#pending;
      this.#pending = undefined;
      if (chunk === undefined) {
        if (this.#ended) break;
        const next = await this.reader.read();
        if (next.done) {
          this.#ended = true;
          break;
        }
        chunk = next.value;
      }
      const take = Math.min(chunk.byteLength, buffer.byteLength - end);
      buffer.set(chunk.subarray(0, take), end);
      end += take;
      if (take < chunk.byteLength) this.#pending = chunk.subarray(take);
    }
    return { buffer, end };
  }

  async cancel(reason: unknown): Promise<void> {
    this.#ended = true;
    this.#pending = undefined;
    await this.reader.cancel(reason);
  }

  release(): void {
    this.reader.releaseLock();
  }
}
