import { ProblemError } from "../http/problem";
import { SNIFF_WINDOW_BYTES, sniffStep } from "./step-sniffer";

export interface InspectionResult {
  size: number;
  sha256: string;
  schema: string;
}

export interface Inspection {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  /** The client-facing reason the stream was failed, if it was failed by the inspection. */
  failure(): ProblemError | undefined;
  /** Resolves after the stream has been fully consumed. */
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

/**
 * One pass over the upload: holds back at most 64 KiB until the STEP header is accepted,
 * then forwards every chunk while hashing (DigestStream) and counting bytes.
 */
export function inspectUpload(maxBytes: number): Inspection {
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let schema: string | undefined;
  let size = 0;
  let failure: ProblemError | undefined;
  let resolveResult: (value: InspectionResult) => void = () => undefined;
  let rejectResult: (reason: unknown) => void = () => undefined;
  const resultPromise = new Promise<InspectionResult>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  // The promise is awaited only on success; a failed upload must not surface as unhandled.
  resultPromise.catch(() => undefined);

  const fail = (problem: ProblemError): never => {
    failure = problem;
    rejectResult(problem);
    throw problem;
  };

  const forward = async (chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
    await digestWriter.write(chunk);
    controller.enqueue(chunk);
  };

  const decide = async (controller: TransformStreamDefaultController<Uint8Array>, complete: boolean) => {
    const prefix = concat(held, heldBytes);
    const verdict = sniffStep(prefix, complete);
    switch (verdict.kind) {
      case "need-more":
        return;
      case "not-step":
        return fail(
          new ProblemError({
            status: 415,
            slug: "not-ifc",
            title: "Unsupported Media Type",
            detail: `Not an IFC file: ${verdict.reason}. Upload an IFC model in STEP format (ISO 10303-21).`,
          }),
        );
      case "unsupported-schema":
        return fail(
          new ProblemError({
            status: 422,
            slug: "unsupported-schema",
            title: "Unsupported IFC Schema",
            detail: `FILE_SCHEMA ${verdict.schema} is not supported; supported are IFC2X3, IFC4, IFC4X1, IFC4X2 and IFC4X3.`,
            extensions: { schema: verdict.schema },
          }),
        );
      case "invalid-header":
        return fail(
          new ProblemError({
            status: 422,
            slug: "invalid-step-header",
            title: "Invalid STEP Header",
            detail: `The STEP header could not be read: ${verdict.reason}.`,
          }),
        );
      case "ifc":
        schema = verdict.schema;
        held = [];
        heldBytes = 0;
        await forward(prefix, controller);
    }
  };

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (chunk.byteLength === 0) return;
      size += chunk.byteLength;
      if (size > maxBytes) fail(tooLarge(maxBytes));
      if (schema !== undefined) return forward(chunk, controller);
      held.push(chunk);
      heldBytes += chunk.byteLength;
      if (heldBytes >= SNIFF_WINDOW_BYTES || mightDecide(held)) await decide(controller, false);
    },
    async flush(controller) {
      if (size === 0) {
        fail(
          new ProblemError({
            status: 415,
            slug: "not-ifc",
            title: "Unsupported Media Type",
            detail: "The body is empty. Upload an IFC model in STEP format (ISO 10303-21).",
          }),
        );
      }
      if (schema === undefined) await decide(controller, true);
      if (schema === undefined) throw new Error("STEP sniffer left a complete body undecided");
      await digestWriter.close();
      const hash = new Uint8Array(await digest.digest);
      resolveResult({ size, sha256: toHex(hash), schema });
    },
  });

  return { stream, failure: () => failure, result: () => resultPromise };
}

/** Sniffing re-tokenises the held prefix; only try once FILE_SCHEMA could be complete. */
function mightDecide(held: Uint8Array[]): boolean {
  const last = held[held.length - 1];
  return last !== undefined && (held.length === 1 || last.includes(0x3b));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
