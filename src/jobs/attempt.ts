import type { CircuitClient, Permit } from "../circuits/client";
import type { Config } from "../config";
import { withDeadline } from "../lib/deadline";
import { ProcessingError, type Processor } from "../processing/processor";
import type { ModelSummary } from "../processing/summary";
import type { CallOutcome } from "../resilience/breaker";
import { CircuitOpenError } from "../resilience/errors";
import { type ObjectStorage, StorageError } from "../storage/object-storage";
import type { ModelChunks } from "./model-chunks";
import { type JobRecord, summaryObjectKey } from "./record";

/**
 * The processor breaker's deadline is the processing deadline plus this, so an asynchronous
 * processor is stopped by its own deadline (processing_timeout) and not by the breaker's.
 */
const PROCESSOR_GUARD_GRACE_MS = 1_000;

export interface AttemptDeps {
  config: Config;
  circuits: CircuitClient;
  storage: ObjectStorage;
  processor: Processor;
  chunks: ModelChunks;
}

/**
 * One processing run: the model copied from storage, summarised, and summary.json written
 * beside it, each dependency behind its breaker. Changes no job state: the object records
 * the outcome. Throws ProcessingError (the model's or a dependency's failure) or
 * CircuitOpenError (turned away: not the job's failure).
 */
export interface ProcessedModel {
  summary: ModelSummary;
  /** SHA-256 (hex) of the stored model, from the job's copy. */
  sha256: string;
}

export async function processModel(deps: AttemptDeps, record: JobRecord, permit: Permit): Promise<ProcessedModel> {
  try {
    return await guardedProcess(deps, record, permit);
  } finally {
    // A half-open probe admitted for a run that never reached the processor frees its slot.
    deps.circuits.release(permit);
  }
}

async function guardedProcess(deps: AttemptDeps, record: JobRecord, permit: Permit): Promise<ProcessedModel> {
  const { config, circuits, storage, processor, chunks } = deps;
  const size = record.file.size;
  // Decided from the size alone, before any copy or parse.
  if (size > processor.maxModelBytes) {
    throw new ProcessingError(
      "model_too_large",
      `The model is ${(size / 1e6).toFixed(1)} MB; models up to ${(processor.maxModelBytes / 1e6).toFixed(1)} MB are summarised for now. Split the model or contact support for large models.`,
    );
  }
  const storageCall = { timeoutMs: config.resilience.storageTimeoutMs, classify: storageOutcome };
  try {
    await circuits.guard("storage", () => chunks.copyFrom(storage, record.objectKey, size), storageCall);
  } catch (error) {
    throw fromStorage(error, "read");
  }
  const sha256 = await checkedSha256(chunks, record);
  const timeoutMs = config.processing.timeoutMs;
  const run = () =>
    withDeadline(
      processor.process(chunks.source(size)),
      AbortSignal.timeout(timeoutMs),
      () =>
        new ProcessingError(
          "processing_timeout",
          `Processing took longer than ${Math.round(timeoutMs / 1000)} s and was stopped. Split the model or contact support.`,
        ),
    );
  const summary = await circuits.guard("processor", run, {
    permit,
    timeoutMs: timeoutMs + PROCESSOR_GUARD_GRACE_MS,
    classify: processorOutcome,
  });
  const body = new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`);
  try {
    await circuits.guard(
      "storage",
      (signal) =>
        storage.put(summaryObjectKey(record.objectKey), new Blob([body]).stream(), {
          contentLength: body.byteLength,
          contentType: "application/json",
          signal,
        }),
      storageCall,
    );
  } catch (error) {
    throw fromStorage(error, "write");
  }
  return { summary, sha256 };
}

/**
 * The stored model's SHA-256, from the job's copy. An upload session's bytes went to storage
 * without passing the Worker: its hash is known only from here, and one the client declared
 * must match. A direct upload's hash was computed on the way in, so this checks the stored copy.
 */
async function checkedSha256(chunks: ModelChunks, record: JobRecord): Promise<string> {
  const computed = await chunks.sha256();
  const recorded = record.file.sha256?.toLowerCase();
  if (recorded !== undefined && recorded !== computed) {
    throw new ProcessingError(
      "checksum_mismatch",
      `The stored model's SHA-256 is ${computed}, not the ${recorded} declared for it. Upload the file again.`,
    );
  }
  return computed;
}

/** Anything thrown that is neither the model's fault nor a breaker's answer: retried as internal. */
export function asProcessingError(error: unknown): ProcessingError {
  if (error instanceof ProcessingError) return error;
  return new ProcessingError("internal", "Processing failed unexpectedly; the job will be retried.", true, { cause: error });
}

/** Whose fault a failed storage call was, as the upload path counts it. */
function storageOutcome(error: unknown): CallOutcome {
  if (error instanceof StorageError || error instanceof ProcessingError) return error.retryable ? "failure" : "client-error";
  return "failure";
}

/** A model the processor refuses (corrupt, unsupported, too large or slow) says nothing about its health. */
function processorOutcome(error: unknown): CallOutcome {
  return error instanceof ProcessingError && !error.retryable ? "client-error" : "failure";
}

/** CircuitOpenError passes through unchanged: being turned away is not a storage failure. */
function fromStorage(error: unknown, operation: "read" | "write"): ProcessingError | CircuitOpenError {
  if (error instanceof ProcessingError || error instanceof CircuitOpenError) return error;
  const retryable = !(error instanceof StorageError) || error.retryable;
  return new ProcessingError(
    "storage_unavailable",
    operation === "read"
      ? "The model could not be read from storage; the job will be retried."
      : "The summary could not be written to storage; the job will be retried.",
    retryable,
    { cause: error },
  );
}

export function describeFailure(error: ProcessingError): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
