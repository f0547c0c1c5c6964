import { ProblemError } from "../lib/problem";
import type { ByteSource, Filled } from "../lib/byte-source";
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
const BLOCK_BYTES = 1024 * 1024;

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
export function inspectUpload(source: ByteSource, maxBytes: number, contentLength?: number): Inspection {
  const sink = contentLength === undefined ? new IdentityTransformStream() : new FixedLengthStream(contentLength);
  let failure: ProblemError | undefined;
  const done = pump(source, sink.writable.getWriter(), maxBytes, (problem) => {
    failure = problem;
  });
  // Awaited by the caller only on success; a refused upload must not surface as unhandled.
  done.catch(() => undefined);
  return { readable: sink.readable, failure: () => failure, result: () => done };
}

async function pump(
  source: ByteSource,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  maxBytes: number,
  refuse: (problem: ProblemError) => void,
): Promise<InspectionResult> {
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  // Aborting rejects these promises too; only the pump's own result reports the failure.
  digest.digest.catch(() => undefined);
  digestWriter.closed.catch(() => undefined);
  writer.closed.catch(() => undefined);
  let size = 0;
  // Two blocks: the next one fills from the client while the last one is being written.
  let spare: Uint8Array = new Uint8Array(BLOCK_BYTES);
  let writing: { block: Uint8Array; done: Promise<unknown> } | undefined;

  const count = (filled: Filled): Uint8Array => {
    size += filled.end;
    if (size > maxBytes) throw tooLarge(maxBytes);
    return filled.buffer.subarray(0, filled.end);
  };
  const forward = async (block: Uint8Array, bytes: Uint8Array): Promise<void> => {
    if (writing) await writing.done;
    spare = writing?.block ?? new Uint8Array(BLOCK_BYTES);
    writing = undefined;
    if (bytes.byteLength === 0) return;
    const done = Promise.all([digestWriter.write(bytes), writer.write(bytes)]);
    // Awaited before the next write; until then a failure must not count as unhandled.
    done.catch(() => undefined);
    writing = { block, done };
  };

  try {
    // A fill stops short of what it asked for only where the body ends.
    const head = await source.fill(spare, 0, SNIFF_WINDOW_BYTES);
    const prefix = count(head);
    if (size === 0) throw notIfc("The body is empty. Upload an IFC model in STEP format (ISO 10303-21).");
    let ended = head.end < SNIFF_WINDOW_BYTES;
    const schema = acceptHeader(sniffStep(prefix, ended));
    await forward(head.buffer, prefix);
    while (!ended) {
      const filled = await source.fill(spare, 0, BLOCK_BYTES);
      ended = filled.end < BLOCK_BYTES;
      await forward(filled.buffer, count(filled));
    }
    if (writing) await writing.done;
    await writer.close();
    await digestWriter.close();
    return { size, sha256: toHex(new Uint8Array(await digest.digest)), schema };
  } catch (error) {
    if (error instanceof ProblemError) refuse(error);
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
