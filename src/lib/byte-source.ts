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

/**
 * The idle deadline of one source's reads: one timer for the source rather than one per read,
 * which a small upload of many short reads would otherwise pay for each (timers are not free
 * in the runtime). The clock starts when a read starts; a read that brings nothing before the
 * deadline fails with `onIdle()`, and the caller cancels the stream.
 */
class IdleWatch {
  #waitingSince = 0;
  #reading = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stall: ((error: Error) => void) | undefined;

  constructor(
    readonly idleMs: number,
    readonly onIdle: (() => Error) | undefined,
  ) {}

  async race<T>(read: Promise<T>): Promise<T> {
    this.#waitingSince = Date.now();
    this.#reading = true;
    const stalled = new Promise<never>((_, reject) => (this.#stall = reject));
    this.#timer ??= setTimeout(() => this.#check(), this.idleMs);
    try {
      return await Promise.race([read, stalled]);
    } finally {
      this.#reading = false;
      this.#stall = undefined;
    }
  }

  /** The source is done with: no timer stays behind it. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#reading) return;
    const left = this.#waitingSince + this.idleMs - Date.now();
    if (left > 0) {
      this.#timer = setTimeout(() => this.#check(), left);
      return;
    }
    this.#stall?.(this.onIdle?.() ?? new StalledError(this.idleMs));
  }
}

/** Reads through the source's idle watch, if it has one. */
function watched<T>(watch: IdleWatch | undefined, read: Promise<T>): Promise<T> {
  return watch ? watch.race(read) : read;
}

const idleWatch = (options: SourceOptions): IdleWatch | undefined =>
  options.idleTimeoutMs === undefined ? undefined : new IdleWatch(options.idleTimeoutMs, options.onIdle);

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
  readonly #idle: IdleWatch | undefined;

  constructor(
    readonly reader: ReadableStreamBYOBReader,
    readonly options: SourceOptions,
  ) {
    this.#step = options.idleTimeoutMs === undefined ? Number.POSITIVE_INFINITY : IDLE_STEP_BYTES;
    this.#idle = idleWatch(options);
  }

  async fill(buffer: Uint8Array, from: number, min: number): Promise<Filled> {
    let end = from;
    while (!this.#ended && end - from < min && end < buffer.byteLength) {
      const view = buffer.subarray(end);
      const atLeast = Math.min(min - (end - from), view.byteLength, this.#step);
      const next = await watched(this.#idle, this.reader.readAtLeast(atLeast, view));
      if (next.value) {
        buffer = new Uint8Array(next.value.buffer);
        end += next.value.byteLength;
      } else {
        // A cancelled stream hands no buffer back: the old one stays detached.
        buffer = new Uint8Array(buffer.byteLength);
      }
      if (next.done) {
        this.#ended = true;
        this.#idle?.stop();
      }
    }
    return { buffer, end };
  }

  async cancel(reason: unknown): Promise<void> {
    this.#ended = true;
    this.#idle?.stop();
    await this.reader.cancel(reason);
  }

  release(): void {
    this.#idle?.stop();
    this.reader.releaseLock();
  }
}

class ChunkSource implements StreamSource {
  #pending: Uint8Array | undefined;
  #ended = false;
  readonly #idle: IdleWatch | undefined;

  constructor(
    readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    readonly options: SourceOptions = {},
  ) {
    this.#idle = idleWatch(options);
  }

  async fill(buffer: Uint8Array, from: number, min: number): Promise<Filled> {
    let end = from;
    while (end - from < min && end < buffer.byteLength) {
      let chunk = this.#pending;
      this.#pending = undefined;
      if (chunk === undefined) {
        if (this.#ended) break;
        const next = await watched(this.#idle, this.reader.read());
        if (next.done) {
          this.#ended = true;
          this.#idle?.stop();
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
    this.#idle?.stop();
    await this.reader.cancel(reason);
  }

  release(): void {
    this.#idle?.stop();
    this.reader.releaseLock();
  }
}
