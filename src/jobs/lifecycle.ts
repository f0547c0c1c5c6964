import type { CircuitClient, Permit } from "../circuits/client";
import type { Config } from "../config";
import type { Logger } from "../lib/log";
import { ProcessingError, type Processor } from "../processing/processor";
import { backoffDelayMs, circuitWaitMs } from "../resilience/backoff";
import { CircuitOpenError } from "../resilience/errors";
import type { ObjectStorage } from "../storage/object-storage";
import { asProcessingError, describeFailure, processModel } from "./attempt";
import type { ModelChunks } from "./model-chunks";
import type { Outbox } from "./outbox";
import type { JobError, JobRecord } from "./record";
import type { JobState } from "./state";

/** Attempts that never finish (isolate killed, memory or CPU limit) end the job after this many. */
const MAX_LOST_ATTEMPTS = 2;

/** What one alarm's processing step needs from the job object. */
export interface LifecycleDeps {
  state: JobState;
  chunks: ModelChunks;
  config: Config;
  log: Logger;
  circuits: CircuitClient;
  outbox: Outbox;
  /** Built inside the attempt, so a processor or storage that cannot be built fails that attempt. */
  processor: () => Processor;
  storage: () => ObjectStorage;
  random: () => number;
  /** Runs once the attempt is counted, before its I/O: arms the watchdog and pushes the listing. */
  started: () => Promise<void>;
}

/**
 * The processing step of the job's alarm: an attempt that never recorded its outcome counts as
 * lost, then one attempt runs and its outcome (succeeded, retry, deferred, failed) is recorded,
 * each as one state change with its event. Never throws for the model's or a dependency's fault.
 */
export async function runProcessing(deps: LifecycleDeps): Promise<void> {
  const { state, config, log } = deps;
  const record = state.record();
  if (!record) return;
  if (record.attemptStartedAt) {
    // The previous attempt started but never recorded an outcome: the runtime cut it off.
    const lost = state.noteLostAttempt(Date.now());
    log.warn({ msg: "processing attempt was interrupted", attempt: record.attempts, lostAttempts: lost });
    if (lost >= MAX_LOST_ATTEMPTS || record.attempts >= config.processing.maxAttempts) {
      const failure = new ProcessingError(
        "processing_timeout",
        `Processing was cut off ${lost} times before it finished (time or memory limits); the model is too demanding for this service. Split it or contact support.`,
      );
      await fail(deps, record, failure);
      return;
    }
  }
  await attempt(deps, record);
}

async function attempt(deps: LifecycleDeps, record: JobRecord): Promise<void> {
  const { state, chunks, config, log, circuits } = deps;
  let permit: Permit;
  try {
    // Asked before the attempt is counted or the model copied: an open breaker costs nothing.
    permit = await circuits.admit("processor");
  } catch (error) {
    if (!(error instanceof CircuitOpenError)) throw error;
    defer(deps, record, error);
    return;
  }
  const started = Date.now();
  state.startAttempt(started, started + config.processing.timeoutMs);
  const attempt = record.attempts + 1;
  // Watchdog: fires only if this attempt never finishes (the isolate died mid-way).
  await deps.started();

  try {
    const processor = deps.processor();
    const storage = deps.storage();
    const { summary, sha256 } = await processModel({ config, circuits, storage, processor, chunks, onProgress: (p) => state.setProgress(p) }, record, permit);
    const processed = { ...record, status: "succeeded" as const, attempts: attempt, summary, file: { ...record.file, sha256 } };
    const event = await deps.outbox.plan("model.processed", processed, Date.now());
    // web-ifc's copy of the model goes in the same transaction: a finished job never keeps it.
    state.endAttempt({ kind: "succeeded", summary, file: processed.file, event }, Date.now(), () => chunks.clear());
    const { durationMs: processingMs, heapBytes } = summary.processor;
    log.info({ msg: "model processed", outcome: "ok", attempt, durationMs: Date.now() - started, processingMs, heapBytes, entityCount: summary.entityCount });
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      // Storage turned the attempt away (at the model copy, or at the summary write after a
      // run): nothing was wrong with the model, so the attempt does not count.
      defer(deps, record, error);
      return;
    }
    const failure = asProcessingError(error);
    if (failure.retryable && attempt < config.processing.maxAttempts) {
      const delay = backoffDelayMs(Math.max(0, attempt - 1), config.processing.retry, deps.random);
      state.endAttempt({ kind: "retry", at: Date.now() + delay }, Date.now());
      log.warn({ msg: "processing attempt failed; retrying", outcome: "error", attempt, code: failure.code, error: describeFailure(failure), retryInMs: delay });
      return;
    }
    if (failure.retryable) {
      failure.message = `${failure.message.replace(/;? ?the job will be retried\.?$/, ".")} Gave up after ${attempt} attempt${attempt === 1 ? "" : "s"}.`;
    }
    await fail(deps, { ...record, attempts: attempt }, failure);
  }
}

/**
 * Puts processing off until the breaker that turned it away may let calls through again.
 * Attempts and status stay as they were before: nothing accepted is lost or failed by an outage.
 */
function defer(deps: LifecycleDeps, record: JobRecord, error: CircuitOpenError): void {
  const waitMs = circuitWaitMs(error.retryAfterMs, deps.random);
  const at = Date.now() + waitMs;
  deps.state.endAttempt({ kind: "deferred", at, status: record.status, attempts: record.attempts }, Date.now());
  deps.log.warn({ msg: "processing waits for a circuit breaker", outcome: "rejected", key: error.key, circuit: error.state, attempts: record.attempts, retryInMs: waitMs });
}

async function fail(deps: LifecycleDeps, record: JobRecord, failure: ProcessingError): Promise<void> {
  const error: JobError = { code: failure.code, message: failure.message };
  const event = await deps.outbox.plan("model.failed", { ...record, status: "failed", error }, Date.now());
  deps.state.endAttempt({ kind: "failed", error, event }, Date.now(), () => deps.chunks.clear());
  deps.log.warn({ msg: "model processing failed", outcome: "error", attempt: record.attempts, code: failure.code, error: describeFailure(failure) });
}
