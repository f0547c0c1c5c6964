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

export interface SourceOptions {
  /**
   * A read that brings no bytes for this long fails with `onIdle()`: a client that stops
   * sending must not hold its buffers, or anything downstream, for ever. Reads then ask for at
   * most IDLE_STEP_BYTES at a time, so "idle" means "sent nothing", not "sent less than a block".
   */
  idleTimeoutMs?: number;
  onIdle?: () => Error;
}

/** With an idle deadline, a read waits for at most this much before the clock starts again. */
export const IDLE_STEP_BYTES = 16 * 1024;

export class StalledError extends Error {
  constructor(readonly idleMs: number) {
    super(`no bytes arrived for ${idleMs} ms`);
    this.name = "StalledError";
  }
}

/** Races one read against the idle deadline; the caller cancels the stream after a stall. */
async function withinIdle<T>(read: Promise<T>, options: SourceOptions): Promise<T> {
  const idleMs = options.idleTimeoutMs;
  if (idleMs === undefined) return read;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(options.onIdle?.() ?? new StalledError(idleMs)), idleMs);
  });
  try {
    return await Promise.race([read, idle]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
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
export function streamSource(stream: ReadableStream<Uint8Array>, options: SourceOptions = {}): StreamSource {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    return new ChunkSource(stream.getReader(), options);
  }
  return new ByobSource(byob, options);
}

class ByobSource implements StreamSource {
  #ended = false;
  readonly #step: number;

  constructor(
    readonly reader: ReadableStreamBYOBReader,
    readonly options: SourceOptions,
  ) {
    this.#step = options.idleTimeoutMs === undefined ? Number.POSITIVE_INFINITY : IDLE_STEP_BYTES;
  }

  async fill(buffer: Uint8Array, from: number, min: number): Promise<Filled> {
    let end = from;
    while (!this.#ended && end - from < min && end < buffer.byteLength) {
      const view = buffer.subarray(end);
      const atLeast = Math.min(min - (end - from), view.byteLength, this.#step);
      const next = await withinIdle(this.reader.readAtLeast(atLeast, view), this.options);
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

  constructor(
    readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    readonly options: SourceOptions = {},
  ) {}

  async fill(buffer: Uint8Array, from: number, min: number): Promise<Filled> {
    let end = from;
    while (end - from < min && end < buffer.byteLength) {
      let chunk = this.#pending;
      this.#pending = undefined;
      if (chunk === undefined) {
        if (this.#ended) break;
        const next = await withinIdle(this.reader.read(), this.options);
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
