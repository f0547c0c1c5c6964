import { DurableObject } from "cloudflare:workers";
import { type Config, eventsQueue, loadConfig, type SettingValues } from "../config";
import { createLogger, type Logger } from "../lib/log";
import { loggedStorage } from "../storage/logged-storage";
import { type ModelStream, ProcessingError, type Processor } from "../processing/processor";
import { boundedSummary } from "../processing/bounded-summary";
import { selectProcessor } from "../processing/select-processor";
import type { ModelSummary } from "../processing/summary";
import { deliverDue } from "../notify/deliver";
import { type EventType, type NotificationEvent, buildEvent } from "../notify/events";
import { type NotificationState, nextAlarmAt, notificationView, planNotifications } from "../notify/schedule";
import { channelsOf, selectNotifiers } from "../notify/select-notifiers";
import { durableWebhookSubscriptions } from "../projects/client";
import { backoffDelayMs, circuitWaitMs } from "../resilience/backoff";
import type { CallOutcome } from "../resilience/breaker";
import { CircuitOpenError } from "../resilience/errors";
import { CircuitClient, type Permit } from "../circuits/client";
import type { ObjectStorage } from "../storage/object-storage";
import { StorageError } from "../storage/object-storage";
import { selectStorage } from "../storage/select-storage";
import { type AcceptedUpload, type JobRecord, summaryObjectKey } from "./record";
import { ModelChunks } from "./model-chunks";

export type Reservation =
  | { state: "reserved" }
  | { state: "in-progress"; projectId: string }
  | { state: "accepted"; projectId: string; reply: AcceptedUpload };

/** How long a reservation without an accepted upload blocks a retry with the same key. */
const RESERVATION_TTL_MS = 15 * 60 * 1000;
/** Attempts that never finish (isolate killed, memory or CPU limit) end the job after this many. */
const MAX_LOST_ATTEMPTS = 2;
/**
 * The processor breaker's deadline is the processing deadline plus this, so an asynchronous
 * processor is stopped by its own deadline (processing_timeout) and not by the breaker's.
 */
const PROCESSOR_GUARD_GRACE_MS = 1_000;

/** What a test may swap in through JobObject.overrideForTests; production builds all from config. */
export interface JobTestOverrides {
  env?: SettingValues;
  storage?: (configured: ObjectStorage) => ObjectStorage;
  processor?: Processor;
  random?: () => number;
  /** Prefix of circuit object names, so a test's breakers are its own (as AppOptions.circuitScope). */
  circuitScope?: string;
}

/**
 * One object per job. Holds the job record in its SQLite storage; with an Idempotency-Key
 * the job id is derived from the key, so this object is also the key's idempotency record.
 * Processing runs from alarms, so it survives restarts and retries without a caller.
 *
 * Every call to a dependency goes through its circuit breaker (`storage`, `processor`,
 * `sqs`, `webhook:<host>`). A breaker that turns a call away is not the job's failure: the
 * job keeps its attempts and its alarm comes back once the breaker may let calls through.
 */
export class JobObject extends DurableObject<Env> {
  #overrides: JobTestOverrides = {};
  readonly #chunks: ModelChunks;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.#chunks = new ModelChunks(ctx.storage.sql);
  }

  /** Test seam (not reachable over RPC: statics are not exposed); used through runInDurableObject. */
  static overrideForTests(object: JobObject, overrides: JobTestOverrides): void {
    object.#overrides = overrides;
  }

  #read<T>(name: string): T | undefined {
    const row = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM state WHERE name = ?", name).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  #write(name: string, value: unknown): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      name,
      JSON.stringify(value),
    );
  }

  #config(): Config {
    return loadConfig(this.#overrides.env ? { ...this.env, ...this.#overrides.env } : this.env);
  }

  /** This alarm's view of the breakers; cheap, the state lives in the Circuit objects. */
  #circuits(config: Config, log: Logger): CircuitClient {
    return new CircuitClient({
      namespace: this.env.CIRCUITS,
      policy: { breaker: config.resilience.breaker, budget: config.resilience.retryBudget },
      waitUntil: (promise) => this.ctx.waitUntil(promise),
      log,
      scope: this.#overrides.circuitScope,
    });
  }

  /** Claims this job id for an upload. Answers what an earlier claim left, if any. */
  async reserve(projectId: string, now: number): Promise<Reservation> {
    const reply = this.#read<AcceptedUpload>("reply");
    if (reply) return { state: "accepted", projectId: reply.projectId, reply };
    const held = this.#read<{ projectId: string; at: number }>("reservation");
    if (held && now - held.at < RESERVATION_TTL_MS) return { state: "in-progress", projectId: held.projectId };
    this.#write("reservation", { projectId, at: now });
    return { state: "reserved" };
  }

  /** Frees a reservation whose upload failed, so the client may retry with the same key. */
  async release(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM state WHERE name = 'reservation'");
  }

  /** Records the accepted upload and schedules its processing. */
  async accept(record: JobRecord, reply: AcceptedUpload): Promise<void> {
    const config = this.#config();
    this.#write("reply", reply);
    this.ctx.storage.sql.exec("DELETE FROM state WHERE name = 'reservation'");
    this.#write("processingDueAt", Date.now() + config.processing.startDelayMs);
    await this.#planEvent(record, "model.uploaded", config);
    this.#write("record", record);
    await this.#rearm();
  }

  async record(): Promise<JobRecord | null> {
    return this.#read<JobRecord>("record") ?? null;
  }

  /**
   * One processing attempt. Never throws: every outcome is written to the record, and
   * retries are scheduled here with backoff rather than left to the runtime's alarm retries.
   */
  override async alarm(): Promise<void> {
    const record = this.#read<JobRecord>("record");
    if (!record) return;
    let config: Config;
    try {
      config = this.#config();
    } catch (error) {
      // Misconfiguration is the operator's to fix; keep the job and look again later.
      createLogger("error", { jobId: record.jobId, component: "job" }).error({ msg: "cannot run the job: invalid configuration", error: String(error) });
      await this.#setAlarm(Date.now() + 60_000);
      return;
    }
    const log = createLogger(config.logLevel, {
      jobId: record.jobId,
      projectId: record.projectId,
      requestId: record.requestId,
      component: "job",
    });
    // Work due by the time this alarm was set for is done now, even if the alarm runs early.
    const now = Math.max(Date.now(), this.#read<number>("alarmAt") ?? 0);
    const circuits = this.#circuits(config, log);
    await this.#deliverNotifications(record, config, log, now, circuits);
    const processingDueAt = this.#read<number | null>("processingDueAt") ?? null;
    const open = record.status === "queued" || record.status === "processing";
    if (open && processingDueAt !== null && processingDueAt <= now) await this.#runProcessing(record, config, log, circuits);
    await this.#rearm();
  }

  async #runProcessing(record: JobRecord, config: Config, log: Logger, circuits: CircuitClient): Promise<void> {
    if (record.attemptStartedAt) {
      // The previous attempt started but never recorded an outcome: the runtime cut it off.
      const lost = (record.lostAttempts ?? 0) + 1;
      log.warn({ msg: "processing attempt was interrupted", attempt: record.attempts, lostAttempts: lost });
      delete record.attemptStartedAt;
      record.lostAttempts = lost;
      if (lost >= MAX_LOST_ATTEMPTS || record.attempts >= config.processing.maxAttempts) {
        await this.#fail(
          record,
          new ProcessingError(
            "processing_timeout",
            `Processing was cut off ${lost} times before it finished (time or memory limits); the model is too demanding for this service. Split it or contact support.`,
          ),
          log,
        );
        return;
      }
    }

    await this.#attempt(record, config, log, circuits);
  }

  async #attempt(record: JobRecord, config: Config, log: Logger, circuits: CircuitClient): Promise<void> {
    const before = { status: record.status, nextAttemptAt: record.nextAttemptAt };
    let processor: Permit;
    try {
      // Asked before the attempt is counted or the model copied: an open breaker costs nothing.
      processor = await circuits.admit("processor");
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) throw error;
      this.#waitForCircuit(record, error, log);
      return;
    }
    const started = Date.now();
    record.status = "processing";
    record.attempts += 1;
    record.attemptStartedAt = new Date(started).toISOString();
    delete record.nextAttemptAt;
    this.#save(record);
    // Watchdog: fires only if this attempt never finishes (the isolate died mid-way).
    this.#write("processingDueAt", started + config.processing.timeoutMs);
    await this.#rearm();

    try {
      const summary = await this.#process(record, config, log, circuits, processor);
      delete record.attemptStartedAt;
      record.status = "succeeded";
      record.summary = boundedSummary(summary);
      this.#write("processingDueAt", null);
      await this.#planEvent(record, "model.processed", config);
      this.#save(record);
      this.#chunks.clear();
      log.info({
        msg: "model processed",
        outcome: "ok",
        attempt: record.attempts,
        durationMs: Date.now() - started,
        processingMs: summary.processor.durationMs,
        heapBytes: summary.processor.heapBytes,
        entityCount: summary.entityCount,
      });
    } catch (error) {
      delete record.attemptStartedAt;
      if (error instanceof CircuitOpenError) {
        // Storage turned the attempt away (at the model copy, or at the summary write after a
        // run): nothing was wrong with the model, so the attempt does not count.
        record.attempts -= 1;
        record.status = before.status;
        record.nextAttemptAt = before.nextAttemptAt;
        this.#waitForCircuit(record, error, log);
        return;
      }
      const failure = asProcessingError(error);
      if (failure.retryable && record.attempts < config.processing.maxAttempts) {
        const delay = backoffDelayMs(Math.max(0, record.attempts - 1), config.processing.retry, this.#overrides.random ?? Math.random);
        const at = Date.now() + delay;
        record.nextAttemptAt = new Date(at).toISOString();
        this.#write("processingDueAt", at);
        this.#save(record);
        log.warn({ msg: "processing attempt failed; retrying", outcome: "error", attempt: record.attempts, code: failure.code, error: describe(failure), retryInMs: delay });
        return;
      }
      if (failure.retryable) {
        failure.message = `${failure.message.replace(/;? ?the job will be retried\.?$/, ".")} Gave up after ${record.attempts} attempt${record.attempts === 1 ? "" : "s"}.`;
      }
      await this.#fail(record, failure, log);
    }
  }

  /**
   * Puts processing off until the breaker that turned it away may let calls through again.
   * Attempts and status stay as they were: nothing accepted is lost or failed by an outage.
   */
  #waitForCircuit(record: JobRecord, error: CircuitOpenError, log: Logger): void {
    const waitMs = circuitWaitMs(error.retryAfterMs, this.#overrides.random ?? Math.random);
    const at = Date.now() + waitMs;
    record.nextAttemptAt = new Date(at).toISOString();
    this.#write("processingDueAt", at);
    this.#save(record);
    log.warn({
      msg: "processing waits for a circuit breaker",
      outcome: "rejected",
      key: error.key,
      circuit: error.state,
      attempts: record.attempts,
      retryInMs: waitMs,
    });
  }

  async #process(record: JobRecord, config: Config, log: Logger, circuits: CircuitClient, permit: Permit): Promise<ModelSummary> {
    try {
      return await this.#guardedProcess(record, config, log, circuits, permit);
    } finally {
      // A half-open probe admitted for a run that never reached the processor frees its slot.
      circuits.release(permit);
    }
  }

  async #guardedProcess(record: JobRecord, config: Config, log: Logger, circuits: CircuitClient, permit: Permit): Promise<ModelSummary> {
    const processor = this.#overrides.processor ?? selectProcessor(config.processing);
    const size = record.file.size;
    // Decided from the size alone, before any copy or parse.
    if (size > processor.maxModelBytes) {
      throw new ProcessingError(
        "model_too_large",
        `The model is ${(size / 1e6).toFixed(1)} MB; models up to ${(processor.maxModelBytes / 1e6).toFixed(1)} MB are summarised for now. Split the model or contact support for large models.`,
      );
    }
    const configured = loggedStorage(
      selectStorage(config, this.env, { log, waitUntil: (promise) => this.ctx.waitUntil(promise), spendRetry: circuits.retryBudget("storage") }),
      log,
    );
    const storage = this.#overrides.storage?.(configured) ?? configured;
    const storageCall = { timeoutMs: config.resilience.storageTimeoutMs, classify: storageOutcome };
    let work: () => Promise<ModelSummary>;
    if (processor.input === "stream") {
      // Each (re)opening of the stored model is one guarded storage call; the bytes stream in after.
      const model: ModelStream = {
        size,
        open: async (offset) => {
          try {
            return await circuits.guard("storage", () => openModel(storage, record.objectKey, offset), storageCall);
          } catch (error) {
            throw fromStorage(error, "read");
          }
        },
      };
      work = () => processor.process(model);
    } else {
      try {
        await circuits.guard("storage", () => this.#chunks.copyFrom(storage, record.objectKey, size), storageCall);
      } catch (error) {
        throw fromStorage(error, "read");
      }
      work = () => processor.process(this.#chunks.source(size));
    }
    const run = () => withDeadline(work(), config.processing.timeoutMs);
    const summary = await circuits.guard("processor", run, {
      permit,
      timeoutMs: config.processing.timeoutMs + PROCESSOR_GUARD_GRACE_MS,
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
    return summary;
  }

  async #fail(record: JobRecord, failure: ProcessingError, log: Logger): Promise<void> {
    record.status = "failed";
    record.error = { code: failure.code, message: failure.message };
    delete record.nextAttemptAt;
    this.#write("processingDueAt", null);
    await this.#planEvent(record, "model.failed", this.#config());
    this.#save(record);
    this.#chunks.clear();
    log.warn({ msg: "model processing failed", outcome: "error", attempt: record.attempts, code: failure.code, error: describe(failure) });
  }

  /** Queues one event on every configured channel; the next alarm delivers it. */
  async #planEvent(record: JobRecord, type: EventType, config: Config): Promise<void> {
    const event = await buildEvent(type, record, {
      createdAt: new Date(),
      summary: type === "model.processed" ? (record.summary ?? null) : null,
      error: type === "model.failed" ? (record.error ?? null) : null,
    });
    const channels = channelsOf(selectNotifiers(config.notify, { queue: eventsQueue(this.env), subscriptions: durableWebhookSubscriptions(this.env.PROJECTS) }));
    const states = [...this.#notifications(), ...planNotifications(event, channels, Date.now(), config.notify.scheduleMs)];
    this.#write("notifyEvents", [...(this.#read<NotificationEvent[]>("notifyEvents") ?? []), event]);
    this.#write("notifyStates", states);
    record.notifications = states.map(notificationView);
  }

  #notifications(): NotificationState[] {
    return this.#read<NotificationState[]>("notifyStates") ?? [];
  }

  /** Attempts every notification due by `now`; each attempt's result is kept on the job. */
  async #deliverNotifications(record: JobRecord, config: Config, log: Logger, now: number, circuits: CircuitClient): Promise<void> {
    const states = this.#notifications();
    if (!states.some((state) => state.status === "pending" && state.nextAttemptAt !== null && state.nextAttemptAt <= now)) return;
    // Sends go through the `sqs` and `webhook:<host>` breakers; a send an open breaker turns
    // away is not counted as an attempt, and the notification waits for the breaker.
    const notifiers = selectNotifiers(config.notify, { queue: eventsQueue(this.env), circuits, subscriptions: durableWebhookSubscriptions(this.env.PROJECTS) });
    const round = await deliverDue(states, this.#read<NotificationEvent[]>("notifyEvents") ?? [], notifiers, {
      now,
      scheduleMs: config.notify.scheduleMs,
      log,
      ...(this.#overrides.random ? { random: this.#overrides.random } : {}),
    });
    this.#write("notifyStates", round.states);
    record.notifications = round.states.map(notificationView);
    this.#save(record);
  }

  /** One alarm serves processing and notifications: it is set for whichever is due first. */
  async #rearm(): Promise<void> {
    const record = this.#read<JobRecord>("record");
    const open = record?.status === "queued" || record?.status === "processing";
    const processing = open ? (this.#read<number | null>("processingDueAt") ?? null) : null;
    const notify = nextAlarmAt(this.#notifications());
    const due = [processing, notify].filter((at): at is number => at !== null);
    if (due.length === 0) {
      this.ctx.storage.sql.exec("DELETE FROM state WHERE name = 'alarmAt'");
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.#setAlarm(Math.min(...due));
  }

  async #setAlarm(at: number): Promise<void> {
    this.#write("alarmAt", at);
    await this.ctx.storage.setAlarm(at);
  }

  #save(record: JobRecord): void {
    record.updatedAt = new Date().toISOString();
    this.#write("record", record);
  }
}

function asProcessingError(error: unknown): ProcessingError {
  if (error instanceof ProcessingError) return error;
  return new ProcessingError("internal", "Processing failed unexpectedly; the job will be retried.", true, { cause: error });
}

/** Whose fault a failed storage call was, as the upload path counts it. */
function storageOutcome(error: unknown): CallOutcome {
  if (error instanceof StorageError || error instanceof ProcessingError) return error.retryable ? "failure" : "client-error";
  return "failure";
}

/**
 * A model the processor refuses (corrupt, unsupported, too large or slow) says nothing about
 * its health; nor does storage failing under a streaming read (the storage breaker saw it).
 */
function processorOutcome(error: unknown): CallOutcome {
  if (error instanceof CircuitOpenError) return "client-error";
  if (error instanceof ProcessingError && (!error.retryable || error.code === "storage_unavailable")) return "client-error";
  return "failure";
}

async function openModel(storage: ObjectStorage, key: string, offset: number): Promise<ReadableStream<Uint8Array>> {
  const object = await storage.get(key, { offset });
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

/** Bounds asynchronous processors; web-ifc runs synchronously, so the watchdog alarm covers it. */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ProcessingError("processing_timeout", `Processing took longer than ${Math.round(timeoutMs / 1000)} s and was stopped. Split the model or contact support.`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function describe(error: ProcessingError): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
