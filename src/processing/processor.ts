import type { ModelSummary } from "./summary";

/**
 * The model bytes as the processor sees them: read synchronously, because web-ifc pulls
 * data through a synchronous callback while it parses.
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

/** A failure with a code a client can act on; `retryable` ones are tried again later. */
export class ProcessingError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ProcessingError";
  }
}

/** The processor port: turns one model into its summary. */
export interface Processor {
  readonly engine: ModelSummary["processor"]["engine"];
  /** Largest model this processor accepts; larger ones fail with model_too_large before any work. */
  readonly maxModelBytes: number;
  process(source: ModelSource): Promise<ModelSummary>;
}

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
