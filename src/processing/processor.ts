import type { ModelSummary } from "./summary";

/**
 * The model bytes for a random-access processor: read synchronously, because web-ifc pulls
 * data through a synchronous callback while it parses (the job keeps a copy for it).
 */
export interface ModelSource {
  readonly size: number;
  /** Up to `length` bytes from `offset`; fewer only at the end of the model. */
  read(offset: number, length: number): Uint8Array;
}

/** The closed set of reasons a job can fail with; clients may switch on them. */
export const FAILURE_CODES = [
  "invalid_step",
  "unsupported_schema",
  "model_too_large",
  "processing_timeout",
  "storage_unavailable",
  "checksum_mismatch",
  "internal",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/**
 * Whose fault a failure is. Only `infrastructure` (the processor could not start, the job's
 * copy of the model is damaged) speaks of the processor's health and counts against its
 * breaker; anything the model's content caused is the model's, a job failure at most.
 */
export type FailureFault = "model" | "infrastructure";

/** A failure with a code a client can act on; `retryable` ones are tried again later. */
export class ProcessingError extends Error {
  readonly fault: FailureFault;

  constructor(
    readonly code: FailureCode,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown; fault?: FailureFault },
  ) {
    super(message, options);
    this.name = "ProcessingError";
    this.fault = options?.fault ?? "model";
  }
}

/**
 * The stored model read front to back, once: `open(offset)` answers its bytes from `offset`
 * (a ranged GET), so a read that fails part-way resumes where it stopped.
 */
export interface ModelStream {
  readonly size: number;
  open(offset: number): Promise<ReadableStream<Uint8Array>>;
}

export interface ProcessOptions {
  /** Called as bytes are consumed (the caller throttles what it records). */
  onProgress?(bytesDone: number, bytesTotal: number): void;
}

interface ProcessorBase {
  readonly engine: ModelSummary["processor"]["engine"];
  /** Largest model this processor accepts; larger ones fail with model_too_large before any work. */
  readonly maxModelBytes: number;
}

/** Reads the stored model once as a stream (the stream engine). */
export interface StreamProcessor extends ProcessorBase {
  readonly input: "stream";
  process(model: ModelStream, options?: ProcessOptions): Promise<ModelSummary>;
}

/** Reads any range at any time, synchronously (web-ifc): the job gives it a local copy. */
export interface RandomAccessProcessor extends ProcessorBase {
  readonly input: "random-access";
  process(source: ModelSource, options?: ProcessOptions): Promise<ModelSummary>;
}

/** The processor port: turns one model into its summary, reading it the way its engine needs. */
export type Processor = StreamProcessor | RandomAccessProcessor;

export const tooLargeError = (size: number, limit: number): ProcessingError =>
  new ProcessingError(
    "model_too_large",
    `The model is ${formatBytes(size)}; this service summarises models up to ${formatBytes(limit)} for now. ` +
      "Split the model (e.g. by storey or discipline) or contact support for the large-model pipeline.",
  );

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
