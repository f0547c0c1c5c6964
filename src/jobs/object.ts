/**
 * The job Durable Object: longer than our files usually are because the attempt's lifecycle
 * (lost attempts, deferral, retries, failure, expiry), the listing push and the alarm's arming
 * must read and write the same state in order; the I/O lives in attempt.ts, outbox.ts,
 * listing.ts, retention.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { CircuitClient, type Permit } from "../circuits/client";
import { type Config, type SettingValues, loadConfig } from "../config";
import { type Logger, createLogger } from "../lib/log";
import { nextAlarmAt, notificationView } from "../notify/schedule";
import { ProcessingError, type Processor } from "../processing/processor";
import { selectProcessor } from "../processing/select-processor";
import { backoffDelayMs, circuitWaitMs } from "../resilience/backoff";
import { CircuitOpenError } from "../resilience/errors";
import { loggedStorage } from "../storage/logged-storage";
import type { ObjectStorage } from "../storage/object-storage";
import { selectStorage } from "../storage/select-storage";
import { type ProjectJobIndex, durableProjectJobIndex } from "../projects/client";
import { asProcessingError, describeFailure, processModel } from "./attempt";
import { LISTING_RETRY_MS, syncListing } from "./listing";
import { ModelChunks } from "./model-chunks";
import { Outbox } from "./outbox";
import { IdempotencyKeyState, type KeyClaim, type KeyClaimRequest } from "./idempotency-key";
import type { AcceptedUpload, JobError, JobRecord, Reservation } from "./record";
import { RETENTION_RETRY_MS, removeJobOutside, retentionDueAt } from "./retention";
import { JobState } from "./state";

/** How long a reservation without an accepted upload blocks a retry with the same key. */
const RESERVATION_TTL_MS = 15 * 60 * 1000;
/** Attempts that never finish (isolate killed, memory or CPU limit) end the job after this many. */
const MAX_LOST_ATTEMPTS = 2;
/** A misconfigured Worker cannot run the job; it looks again after this long. */
const CONFIG_RETRY_MS = 60_000;

/** What a test may swap in through JobObject.overrideForTests; production builds all from config. */
export interface JobTestOverrides {
  env?: SettingValues;
  storage?: (configured: ObjectStorage) => ObjectStorage;
  processor?: Processor;
  random?: () => number;
  /** Prefix of circuit object names, so a test's breakers are its own (as AppOptions.circuitScope). */
  circuitScope?: string;
  listing?: ProjectJobIndex;
}

/**
 * One object per job: RPC for the upload path and the routes, and one alarm that runs the
 * processing attempts and the notification deliveries, so the job survives restarts and
 * needs no caller. A finished job expires after JOB_RETENTION_DAYS: the alarm removes its model,
 * summary.json and listing entry, then everything it holds. An object named by an
 * Idempotency-Key holds only that key's record (idempotency-key.ts) and goes when it expires.
 * State lives in typed tables (JobState); the attempt's I/O in attempt.ts, the notifications in
 * outbox.ts.
 *
 * Every call to a dependency goes through its circuit breaker. A breaker that turns a call
 * away is not the job's failure: the job keeps its attempts and its alarm comes back once the
 * breaker may let calls through.
 */
export class JobObject extends DurableObject<Env> {
  #overrides: JobTestOverrides = {};
  #configCache: Config | undefined;
  // Field initialisers run once the base class has set ctx.
  #stateOnce: JobState | undefined;
  #chunksOnce: ModelChunks | undefined;
  #keysOnce: IdempotencyKeyState | undefined;

  // Created on first use, not in the constructor: their tables are the object's storage, and a
  // job id that was only read (a missing or guessed one) must leave none behind.
  get #state(): JobState {
    this.#stateOnce ??= new JobState(this.ctx.storage);
    return this.#stateOnce;
  }

  get #chunks(): ModelChunks {
    this.#chunksOnce ??= new ModelChunks(this.ctx.storage.sql);
    return this.#chunksOnce;
  }

  get #keys(): IdempotencyKeyState {
    this.#keysOnce ??= new IdempotencyKeyState(this.ctx.storage);
    return this.#keysOnce;
  }

  /** Whether this object has ever stored anything; asked before a read, which must not create tables. */
  #stored(): boolean {
    return this.#stateOnce !== undefined || this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").toArray().length > 0;
  }

  /** Test seam (not reachable over RPC: statics are not exposed); used through runInDurableObject. */
  static overrideForTests(object: JobObject, overrides: JobTestOverrides): void {
    object.#overrides = overrides;
    object.#configCache = undefined;
  }

  static readonly #projectOverrides = new Map<string, JobTestOverrides>();

  /** Test seam: overrides every job of `projectId` takes when it accepts its upload (its id is not known before). */
  static overrideProjectForTests(projectId: string, overrides: JobTestOverrides): void {
    JobObject.#projectOverrides.set(projectId, overrides);
  }

  #config(): Config {
    this.#configCache ??= loadConfig(this.#overrides.env ? { ...this.env, ...this.#overrides.env } : this.env);
    return this.#configCache;
  }

  #outbox(config: Config): Outbox {
    return new Outbox({ config, env: this.env, ...(this.#overrides.random ? { random: this.#overrides.random } : {}) });
  }

  /** Claims this job id for an upload. Answers what an earlier claim left, if any. */
  async reserve(projectId: string, now: number): Promise<Reservation> {
    const reply = this.#state.reply();
    if (reply) return { state: "accepted", projectId: reply.projectId, reply };
    const held = this.#state.reservation();
    if (held && now - held.at < RESERVATION_TTL_MS) return { state: "in-progress", projectId: held.projectId };
    this.#state.reserve(projectId, now);
    return { state: "reserved" };
  }

  /** Frees a reservation whose upload failed, so the client may retry with the same key. */
  async release(): Promise<void> {
    this.#state.release();
  }

  /** Records the accepted upload and plans its processing and its first event, in one transaction. */
  async accept(record: JobRecord, reply: AcceptedUpload): Promise<void> {
    const forProject = JobObject.#projectOverrides.get(record.projectId);
    if (forProject) JobObject.overrideForTests(this, forProject);
    const config = this.#config();
    const now = Date.now();
    const uploaded = await this.#outbox(config).plan("model.uploaded", record, now);
    // The first accept wins; a repeated call (a retried RPC) changes nothing.
    if (this.#state.reply()) return;
    const processingDueAt = now + config.processing.startDelayMs;
    this.#state.accept(record, reply, processingDueAt, uploaded);
    // What #arm() and the listing would read back is in hand: the new job, its one event, and no
    // retention yet (it has not finished).
    await this.#armAt([processingDueAt, nextAlarmAt(uploaded.deliveries)]);
    const written = { ...record, notifications: uploaded.deliveries.map(notificationView) };
    await this.#syncListing(createLogger(config.logLevel, { jobId: record.jobId, component: "job" }), written);
  }

  /** Forgets the job (record, reply, events, its copy of the model): nothing of it stays; the route removed the stored model first. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#stateOnce = undefined;
    this.#chunksOnce = undefined;
    this.#keysOnce = undefined;
  }

  /** Idempotency-Key record: holds the key for this request, or answers who holds it or what it answered. */
  async claimKey(request: KeyClaimRequest): Promise<KeyClaim> {
    const claim = this.#keys.claim(request);
    await this.#armKey();
    return claim;
  }

  /** The owner's sign of life while its request runs; false once the key is not its own. */
  async renewKey(owner: string, now: number, expiresAt: number): Promise<boolean> {
    const renewed = this.#keys.renew(owner, now, expiresAt);
    if (renewed) await this.#armKey();
    return renewed;
  }

  /** The owner's request finished: the key replays `reply` to requests with the same fingerprint. */
  async completeKey(owner: string, fingerprint: string, reply: AcceptedUpload, now: number, expiresAt: number): Promise<boolean> {
    const completed = this.#keys.complete(owner, fingerprint, reply, now, expiresAt);
    if (completed) await this.#armKey();
    return completed;
  }

  /** The owner's request failed: the key is free, and an object that held only it holds nothing. */
  async releaseKey(owner: string): Promise<void> {
    if (this.#keys.release(owner)) await this.forget();
  }

  async #armKey(): Promise<void> {
    const at = this.#keys.expiresAt();
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  async record(): Promise<JobRecord | null> {
    if (!this.#stored()) return null;
    const record = this.#state.record();
    if (record) record.notifications = this.#state.deliveries().map(notificationView);
    return record;
  }

  /**
   * Delivers what is due, then runs a processing attempt if one is due. Never throws: every
   * outcome is recorded, and retries are scheduled here with backoff rather than left to the
   * runtime's alarm retries.
   */
  override async alarm(): Promise<void> {
    const record = this.#state.record();
    if (!record) {
      // An Idempotency-Key's record: gone once expired.
      const at = this.#keys.expiresAt();
      if (at === null || at <= Date.now()) await this.forget();
      else await this.ctx.storage.setAlarm(at);
      return;
    }
    let config: Config;
    try {
      config = this.#config();
    } catch (error) {
      // Misconfiguration is the operator's to fix; keep the job and look again later.
      createLogger("error", { jobId: record.jobId, component: "job" }).error({ msg: "cannot run the job: invalid configuration", error: String(error) });
      await this.#setAlarm(Date.now() + CONFIG_RETRY_MS);
      return;
    }
    const log = createLogger(config.logLevel, { jobId: record.jobId, projectId: record.projectId, requestId: record.requestId, component: "job" });
    // Work due by the time this alarm was set for is done now, even if the alarm runs early.
    const now = Math.max(Date.now(), this.#state.alarmAt() ?? 0);
    const circuits = CircuitClient.fromConfig(config.resilience, this.env.CIRCUITS, {
      waitUntil: (promise) => this.ctx.waitUntil(promise),
      log,
      scope: this.#overrides.circuitScope,
    });
    const expiresAt = retentionDueAt(this.#state.finishedAt(), config.jobs.retentionMs);
    // Deleting cannot be undone: unlike the work above, it waits for the clock, not the alarm.
    if (expiresAt !== null && expiresAt <= Date.now()) {
      await this.#expire(record, config, log, circuits);
      return;
    }
    if (Outbox.due(this.#state.deliveries(), now)) {
      const round = await this.#outbox(config).deliver(this.#state, now, log, circuits);
      this.#state.saveDeliveries(round.states, Date.now());
    }
    const due = this.#state.processingDueAt();
    if (due !== null && due <= now) await this.#runProcessing(config, log, circuits);
    await this.#arm();
    await this.#syncListing(log);
  }

  async #runProcessing(config: Config, log: Logger, circuits: CircuitClient): Promise<void> {
    const record = this.#state.record();
    if (!record) return;
    if (record.attemptStartedAt) {
      // The previous attempt started but never recorded an outcome: the runtime cut it off.
      const lost = this.#state.noteLostAttempt(Date.now());
      log.warn({ msg: "processing attempt was interrupted", attempt: record.attempts, lostAttempts: lost });
      if (lost >= MAX_LOST_ATTEMPTS || record.attempts >= config.processing.maxAttempts) {
        const failure = new ProcessingError(
          "processing_timeout",
          `Processing was cut off ${lost} times before it finished (time or memory limits); the model is too demanding for this service. Split it or contact support.`,
        );
        await this.#fail(record, failure, config, log);
        return;
      }
    }
    await this.#attempt(record, config, log, circuits);
  }

  async #attempt(record: JobRecord, config: Config, log: Logger, circuits: CircuitClient): Promise<void> {
    let permit: Permit;
    try {
      // Asked before the attempt is counted or the model copied: an open breaker costs nothing.
      permit = await circuits.admit("processor");
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) throw error;
      this.#defer(record, error, log);
      return;
    }
    const started = Date.now();
    this.#state.startAttempt(started, started + config.processing.timeoutMs);
    const attempt = record.attempts + 1;
    // Watchdog: fires only if this attempt never finishes (the isolate died mid-way).
    await this.#arm();
    await this.#syncListing(log);

    try {
      const processor = this.#overrides.processor ?? selectProcessor(config.processing);
      const storage = this.#storage(config, log, circuits);
      const { summary, sha256 } = await processModel({ config, circuits, storage, processor, chunks: this.#chunks, onProgress: (p) => this.#state.setProgress(p) }, record, permit);
      const processed = { ...record, status: "succeeded" as const, attempts: attempt, summary, file: { ...record.file, sha256 } };
      const event = await this.#outbox(config).plan("model.processed", processed, Date.now());
      // web-ifc's copy of the model goes in the same transaction: a finished job never keeps it.
      this.#state.endAttempt({ kind: "succeeded", summary, file: processed.file, event }, Date.now(), () => this.#chunks.clear());
      const { durationMs: processingMs, heapBytes } = summary.processor;
      log.info({ msg: "model processed", outcome: "ok", attempt, durationMs: Date.now() - started, processingMs, heapBytes, entityCount: summary.entityCount });
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        // Storage turned the attempt away (at the model copy, or at the summary write after a
        // run): nothing was wrong with the model, so the attempt does not count.
        this.#defer(record, error, log);
        return;
      }
      const failure = asProcessingError(error);
      if (failure.retryable && attempt < config.processing.maxAttempts) {
        const delay = backoffDelayMs(Math.max(0, attempt - 1), config.processing.retry, this.#overrides.random ?? Math.random);
        this.#state.endAttempt({ kind: "retry", at: Date.now() + delay }, Date.now());
        log.warn({ msg: "processing attempt failed; retrying", outcome: "error", attempt, code: failure.code, error: describeFailure(failure), retryInMs: delay });
        return;
      }
      if (failure.retryable) {
        failure.message = `${failure.message.replace(/;? ?the job will be retried\.?$/, ".")} Gave up after ${attempt} attempt${attempt === 1 ? "" : "s"}.`;
      }
      await this.#fail({ ...record, attempts: attempt }, failure, config, log);
    }
  }

  #storage(config: Config, log: Logger, circuits: CircuitClient): ObjectStorage {
    const configured = loggedStorage(
      selectStorage(config, this.env, { log, waitUntil: (promise) => this.ctx.waitUntil(promise), spendRetry: circuits.retryBudget("storage") }),
      log,
    );
    return this.#overrides.storage?.(configured) ?? configured;
  }

  /** The job's retention has passed: its model, summary and listing entry go, then the object's state. */
  async #expire(record: JobRecord, config: Config, log: Logger, circuits: CircuitClient): Promise<void> {
    try {
      await removeJobOutside(
        {
          storage: this.#storage(config, log, circuits),
          circuits,
          storageTimeoutMs: config.resilience.storageTimeoutMs,
          listing: this.#overrides.listing ?? durableProjectJobIndex(this.env.PROJECTS),
        },
        record,
      );
    } catch (error) {
      log.warn({ msg: "expired job not removed yet; the alarm tries again", outcome: "error", error: String(error) });
      await this.#setAlarm(Date.now() + RETENTION_RETRY_MS);
      return;
    }
    await this.forget();
    log.info({ msg: "expired job removed", outcome: "ok", finishedAt: record.updatedAt });
  }

  /**
   * Puts processing off until the breaker that turned it away may let calls through again.
   * Attempts and status stay as they were before: nothing accepted is lost or failed by an outage.
   */
  #defer(record: JobRecord, error: CircuitOpenError, log: Logger): void {
    const waitMs = circuitWaitMs(error.retryAfterMs, this.#overrides.random ?? Math.random);
    const at = Date.now() + waitMs;
    this.#state.endAttempt({ kind: "deferred", at, status: record.status, attempts: record.attempts }, Date.now());
    log.warn({ msg: "processing waits for a circuit breaker", outcome: "rejected", key: error.key, circuit: error.state, attempts: record.attempts, retryInMs: waitMs });
  }

  async #fail(record: JobRecord, failure: ProcessingError, config: Config, log: Logger): Promise<void> {
    const error: JobError = { code: failure.code, message: failure.message };
    const event = await this.#outbox(config).plan("model.failed", { ...record, status: "failed", error }, Date.now());
    this.#state.endAttempt({ kind: "failed", error, event }, Date.now(), () => this.#chunks.clear());
    log.warn({ msg: "model processing failed", outcome: "error", attempt: record.attempts, code: failure.code, error: describeFailure(failure) });
  }

  /** One alarm serves processing, notifications and a listing that lags: whichever is due first. */
  async #arm(listingLags = false): Promise<void> {
    await this.#armAt([
      this.#state.processingDueAt(),
      nextAlarmAt(this.#state.deliveries()),
      listingLags ? Date.now() + LISTING_RETRY_MS : null,
      retentionDueAt(this.#state.finishedAt(), this.#retentionMs()),
    ]);
  }

  async #armAt(pending: readonly (number | null)[]): Promise<void> {
    const due = pending.filter((at): at is number => at !== null);
    if (due.length === 0) {
      this.#state.setAlarmAt(null);
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.#setAlarm(Math.min(...due));
  }

  /** A misconfigured Worker still arms its alarms; the alarm then finds the configuration fixed or not. */
  #retentionMs(): number {
    try {
      return this.#config().jobs.retentionMs;
    } catch {
      return CONFIG_RETRY_MS;
    }
  }

  async #syncListing(log: Logger, written?: JobRecord): Promise<void> {
    if (!(await syncListing(this.#state, this.#overrides.listing ?? durableProjectJobIndex(this.env.PROJECTS), log, written))) await this.#arm(true);
  }

  async #setAlarm(at: number): Promise<void> {
    this.#state.setAlarmAt(at);
    await this.ctx.storage.setAlarm(at);
  }
}
