import type { CircuitClient, Permit } from "../circuits/client";
import type { Config } from "../config";
import { withDeadline } from "../lib/deadline";
import { boundedSummary } from "../processing/bounded-summary";
import { type ProcessingProgress, progressRecorder } from "../processing/progress";
import { type ModelStream, ProcessingError, type Processor } from "../processing/processor";
import type { ModelSummary } from "../processing/summary";
import type { CallOutcome } from "../resilience/breaker";
import { CircuitOpenError } from "../resilience/errors";
import { type ObjectBody, type ObjectStorage, StorageError } from "../storage/object-storage";
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
  /** Told how far the attempt is, thinned to what is worth recording. */
  onProgress?: (progress: ProcessingProgress) => void;
}

/**
 * One processing run: the model read from storage (streamed to the stream engine, copied for
 * web-ifc), summarised, and summary.json written beside it, each dependency behind its breaker. Changes no job state: the object records
 * the outcome. Throws ProcessingError (the model's or a dependency's failure) or
 * CircuitOpenError (turned away: not the job's failure).
 */
export interface ProcessedModel {
  /** As the job record keeps it (summary.json holds it whole). */
  summary: ModelSummary;
  /** SHA-256 (hex) of the stored model, as the engine read it. */
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
  const report = deps.onProgress ?? (() => undefined);
  let work: () => Promise<ModelSummary>;
  let copied: string | null = null;
  if (processor.input === "stream") {
    // The stream engine reads the stored object itself, once: each (re)opening of it is one
    // guarded storage call; the bytes stream in after, with no copy.
    const model: ModelStream = {
      size,
      open: async (offset) => {
        try {
          return await circuits.guard("storage", (signal) => openModel(storage, record.objectKey, offset, signal), storageCall);
        } catch (error) {
          throw fromStorage(error, "read");
        }
      },
    };
    work = () => processor.process(model, { onProgress: progressRecorder("reading", report) });
  } else {
    try {
      const copying = progressRecorder("copying", report);
      // The deadline covers the whole copy; when it passes, the read is cancelled, not left running.
      await circuits.guard("storage", (signal) => chunks.copyFrom(storage, record.objectKey, size, copying, signal), storageCall);
    } catch (error) {
      throw fromStorage(error, "read");
    }
    copied = checkSha256(await chunks.sha256(), record);
    report({ phase: "parsing", bytesDone: 0, bytesTotal: size });
    work = () => processor.process(chunks.source(size), { onProgress: progressRecorder("parsing", report) });
  }
  const timeoutMs = config.processing.timeoutMs;
  const run = () =>
    withDeadline(
      work(),
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
  // The stream engine hashed the stored bytes in its pass; a copy was hashed before processing.
  const sha256 = copied ?? checkSha256(summary.file.sha256, record);
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
  return { summary: boundedSummary(summary), sha256 };
}

/**
 * The stored model's SHA-256, as the engine read it. An upload session's bytes went to storage
 * without passing the Worker: its hash is known only from here, and one the client declared
 * must match. A direct upload's hash was computed on the way in, so this checks the stored copy.
 */
function checkSha256(computed: string, record: JobRecord): string {
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

/**
 * Only the processor's own trouble counts against its breaker. A processor turns whatever
 * reading a model caused (a refusal, a parse error, an unexpected exception on odd content)
 * into a ProcessingError of the model's: five bad uploads must not turn every tenant's jobs
 * away. What counts: a processor that could not start or whose input was damaged
 * (fault "infrastructure"), and anything that escaped it unclassified (a crash).
 */
export function processorOutcome(error: unknown): CallOutcome {
  if (error instanceof ProcessingError) return error.fault === "infrastructure" ? "failure" : "client-error";
  return "failure";
}

/**
 * The guard's deadline ends a read that hangs before storage answers. It must not end the body
 * that streams after: the engine reads a large model for longer than one storage call may take,
 * so the signal given to storage follows the deadline only until the object is open.
 */
async function openModel(storage: ObjectStorage, key: string, offset: number, deadline: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const opening = new AbortController();
  const cancel = () => opening.abort(deadline.reason);
  if (deadline.aborted) cancel();
  deadline.addEventListener("abort", cancel, { once: true });
  let object: ObjectBody | null;
  try {
    object = await storage.get(key, { offset }, { signal: opening.signal });
  } finally {
    deadline.removeEventListener("abort", cancel);
  }
  if (!object) throw new ProcessingError("storage_unavailable", "The uploaded model is no longer in storage; upload it again.");
  return object.body;
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
