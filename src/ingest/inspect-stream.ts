import { ProblemError } from "../lib/problem";
import type { ByteSource, Filled } from "../lib/byte-source";
import type { MemoryLease } from "../storage/buffer-budget";
import type { StorageDeadline } from "./storage-deadline";
import { SNIFF_WINDOW_BYTES, type SniffResult, sniffStep } from "./step-sniffer";
import { toHex } from "../lib/hex";

export interface InspectionResult {
  size: number;
  sha256: string;
  schema: string;
}

export interface Inspection {
  /** The accepted bytes, for storage. Errors with the rejection if the upload is refused. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The client-facing reason the upload was refused, if the inspection refused it. */
  failure(): ProblemError | undefined;
  /** The request body itself failed (the client went away): the client's fault, not storage's. */
  sourceFailed(): boolean;
  /** Stops the pump: the source is cancelled and `readable` errors. */
  abort(reason: unknown): Promise<void>;
  /** Resolves once every byte has been inspected and handed on. */
  result(): Promise<InspectionResult>;
}

export const tooLarge = (maxBytes: number): ProblemError =>
  new ProblemError({
    status: 413,
    slug: "payload-too-large",
    title: "Payload Too Large",
    detail: `The model is larger than the limit of ${maxBytes} bytes.`,
    extensions: { maxBytes },
  });

/** Read and forwarded in blocks of this size; two of them are reused for the whole upload. */
export const BLOCK_BYTES = 1024 * 1024;
/** Blocks of a body known to fit in one storage part: it gains nothing from larger ones. */
export const SMALL_BLOCK_BYTES = SNIFF_WINDOW_BYTES;
const SMALL_BODY_BYTES = 8 * 1024 * 1024;

/** Block size for a body of at most `bound` bytes (unknown: large). */
export function blockBytesFor(bound: number | undefined): number {
  return bound !== undefined && bound <= SMALL_BODY_BYTES ? SMALL_BLOCK_BYTES : BLOCK_BYTES;
}

export interface InspectOptions {
  /** Exact length (a FixedLengthStream goes to storage then). */
  contentLength?: number;
  /** Size of each of the two blocks; BLOCK_BYTES by default. */
  blockBytes?: number;
  /** The blocks are counted here (the isolate's upload budget). */
  memory?: MemoryLease;
  /** Times every wait for storage to take a block. */
  deadline?: StorageDeadline;
}

const notIfc = (detail: string): ProblemError =>
  new ProblemError({ status: 415, slug: "not-ifc", title: "Unsupported Media Type", detail });

/**
 * One pass over the upload: reads the first 64 KiB and accepts or refuses the STEP header
 * before anything is handed on, then forwards every block while hashing (DigestStream) and
 * counting bytes.
 *
 * The pump writes by hand into a runtime-native stream (Identity/FixedLength) rather than
 * through a JavaScript TransformStream, which keeps far more resident memory on a long upload
 * (docs/performance.md). Blocks are reused: a write to the native stream resolves only once
 * its reader has taken the bytes.
 */
export function inspectUpload(source: ByteSource, maxBytes: number, options: InspectOptions = {}): Inspection {
  const { contentLength } = options;
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  // Counted before anything is allocated: an isolate out of budget refuses here.
  options.memory?.take(2 * blockBytes);
  const sink = contentLength === undefined ? new IdentityTransformStream() : new FixedLengthStream(contentLength);
  const writer = sink.writable.getWriter();
  let failure: ProblemError | undefined;
  let sourceFailed = false;
  const done = pump(source, writer, maxBytes, blockBytes, options.deadline, {
    refuse: (problem) => {
      failure = problem;
    },
    sourceFailed: () => {
      sourceFailed = true;
    },
  });
  // Awaited by the caller only on success; a refused upload must not surface as unhandled.
  done.catch(() => undefined);
  return {
    readable: sink.readable,
    failure: () => failure,
    sourceFailed: () => sourceFailed,
    result: () => done,
    abort: async (reason) => {
      await Promise.allSettled([writer.abort(reason), source.cancel(reason)]);
    },
  };
}

interface PumpEvents {
  refuse(problem: ProblemError): void;
  sourceFailed(): void;
}

async function pump(
  source: ByteSource,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  maxBytes: number,
  blockBytes: number,
  deadline: StorageDeadline | undefined,
  events: PumpEvents,
): Promise<InspectionResult> {
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  // Aborting rejects these promises too; only the pump's own result reports the failure.
  digest.digest.catch(() => undefined);
  digestWriter.closed.catch(() => undefined);
  writer.closed.catch(() => undefined);
  let size = 0;
  // Two blocks: the next one fills from the client while the last one is being written.
  let spare: Uint8Array = new Uint8Array(blockBytes);
  let writing: { block: Uint8Array; done: Promise<unknown> } | undefined;
  // Waits on storage are timed by the deadline; waits on the client by the source's idle limit.
  const storage = <T>(work: Promise<T>): Promise<T> => (deadline ? deadline.wait(work) : work);
  const read = async (buffer: Uint8Array, min: number): Promise<Filled> => {
    try {
      return await source.fill(buffer, 0, min);
    } catch (error) {
      events.sourceFailed();
      throw error;
    }
  };

  const count = (filled: Filled): Uint8Array => {
    size += filled.end;
    if (size > maxBytes) throw tooLarge(maxBytes);
    return filled.buffer.subarray(0, filled.end);
  };
  const forward = async (block: Uint8Array, bytes: Uint8Array): Promise<void> => {
    if (writing) await storage(writing.done);
    spare = writing?.block ?? new Uint8Array(blockBytes);
    writing = undefined;
    if (bytes.byteLength === 0) return;
    const done = Promise.all([digestWriter.write(bytes), writer.write(bytes)]);
    // Awaited before the next write; until then a failure must not count as unhandled.
    done.catch(() => undefined);
    writing = { block, done };
  };

  try {
    // A fill stops short of what it asked for only where the body ends.
    const head = await read(spare, SNIFF_WINDOW_BYTES);
    const prefix = count(head);
    if (size === 0) throw notIfc("The body is empty. Upload an IFC model in STEP format (ISO 10303-21).");
    let ended = head.end < SNIFF_WINDOW_BYTES;
    const schema = acceptHeader(sniffStep(prefix, ended));
    await forward(head.buffer, prefix);
    while (!ended) {
      const filled = await read(spare, blockBytes);
      ended = filled.end < blockBytes;
      await forward(filled.buffer, count(filled));
    }
    if (writing) await storage(writing.done);
    await storage(writer.close());
    await digestWriter.close();
    return { size, sha256: toHex(new Uint8Array(await digest.digest)), schema };
  } catch (error) {
    if (error instanceof ProblemError) events.refuse(error);
    await Promise.allSettled([writer.abort(error), source.cancel(error), digestWriter.abort(error)]);
    throw error;
  }
}

/** The schema of an IFC verdict; the direct upload's 415/422 problem for any other. */
export function acceptHeader(verdict: SniffResult): string {
  switch (verdict.kind) {
    case "ifc":
      return verdict.schema;
    case "need-more":
      throw new Error("STEP sniffer left a complete window undecided");
    case "not-step":
      throw notIfc(`Not an IFC file: ${verdict.reason}. Upload an IFC model in STEP format (ISO 10303-21).`);
    case "unsupported-schema":
      throw new ProblemError({
        status: 422,
        slug: "unsupported-schema",
        title: "Unsupported IFC Schema",
        detail: `FILE_SCHEMA ${verdict.schema} is not supported; supported are IFC2X3, IFC4, IFC4X1, IFC4X2 and IFC4X3.`,
        extensions: { schema: verdict.schema },
      });
    case "invalid-header":
      throw new ProblemError({
        status: 422,
        slug: "invalid-step-header",
        title: "Invalid STEP Header",
        detail: `The STEP header could not be read: ${verdict.reason}.`,
      });
  }
}
