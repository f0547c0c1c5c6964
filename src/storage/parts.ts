import { type ByteSource, type Filled, streamSource } from "../lib/byte-source";
import { type BufferBudget, UploadCapacityError } from "./buffer-budget";

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

/** The caller's own error behind a SourceStreamError; any other error as it is. */
export function unwrapSource(error: unknown): unknown {
  return error instanceof SourceStreamError ? error.cause : error;
}

/**
 * Regroups a stream into parts of exactly `size` bytes (the last may be shorter), so memory
 * stays at one part however long the stream is. Each part is a buffer from `allocate` (by
 * default a fresh one the caller may keep), so a caller may hand back buffers it is done with.
 * Read errors come out as SourceStreamError; an error of `allocate` comes out as it is.
 */
export async function* fixedSizeParts(
  body: ReadableStream<Uint8Array>,
  size: number,
  allocate: () => Uint8Array | Promise<Uint8Array> = () => new Uint8Array(size),
): AsyncGenerator<Uint8Array> {
  const source = streamSource(body);
  try {
    yield* parts(source, size, allocate);
  } finally {
    source.release();
  }
}

async function* parts(source: ByteSource, size: number, allocate: () => Uint8Array | Promise<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buffer = await allocate();
    let filled: Filled;
    try {
      filled = await source.fill(buffer, 0, size);
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

/**
 * A request body for bytes already in memory. Given as a buffer, the runtime keeps a copy alive
 * with the request object until the GC runs, so a long upload's parts pile up; streamed from the
 * reused buffer, nothing stays (docs/performance.md).
 */
export function bodyStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  // A request that fails before reading its body cancels the stream: the write then rejects.
  writer
    .write(bytes)
    .then(() => writer.close())
    .catch(() => undefined);
  return readable;
}

/**
 * Reads a whole body of at most `bound` bytes, less than a part, into one buffer of that size
 * from the isolate's budget and hands it to `use`: a small upload holds what it needs, not a
 * whole part. The bytes go back to the budget once `use` has settled. A read error comes out
 * as it is: nothing but the source is read here.
 */
export async function withBoundedBody<T>(
  body: ReadableStream<Uint8Array>,
  bound: number,
  budget: BufferBudget,
  use: (bytes: Uint8Array) => Promise<T>,
): Promise<T> {
  // One byte more than the bound: a body that fills it was longer than promised.
  const size = bound + 1;
  if (!budget.tryTake(size)) throw new UploadCapacityError(budget.totalBytes);
  try {
    const source = streamSource(body);
    let filled: Filled;
    try {
      filled = await source.fill(new Uint8Array(size), 0, size);
    } finally {
      source.release();
    }
    if (filled.end > bound) throw new RangeError(`the body is longer than the ${bound} bytes it was declared to be at most`);
    return await use(filled.buffer.subarray(0, filled.end));
  } finally {
    budget.give(size);
  }
}
