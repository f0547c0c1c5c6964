/*
 * The job room's Durable Object, a little longer than our files usually are: the test hooks
 * (JobTestOverrides) sit beside the dependencies they replace.
 */
import { DurableObject } from "cloudflare:workers";
import { CircuitClient } from "../circuits/client";
import { type Config, type SettingValues, loadConfig } from "../config";
import { type Logger, createLogger } from "../lib/log";
import { nextAlarmAt, notificationView } from "../notify/schedule";
import type { Processor } from "../processing/processor";
import { selectProcessor } from "../processing/select-processor";
import { loggedStorage } from "../storage/logged-storage";
import type { ObjectStorage } from "../storage/object-storage";
import { selectStorage } from "../storage/select-storage";
import { type ProjectJobIndex, durableProjectJobIndex } from "../projects/client";
import { runProcessing } from "./lifecycle";
import { LISTING_RETRY_MS, syncListing } from "./listing";
import { ModelChunks } from "./model-chunks";
import { Outbox } from "./outbox";
import type { AcceptedUpload, JobRecord, Reservation } from "./record";
import { RETENTION_RETRY_MS, removeJobOutside, retentionDueAt } from "./retention";
import { JobState } from "./state";

/** How long a reservation without an accepted upload blocks a retry with the same key. */
const RESERVATION_TTL_MS = 15 * 60 * 1000;
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
 * summary.json and listing entry, then everything it holds. State lives in typed tables
 * (JobState); an attempt's lifecycle (lost attempts, retries, deferral, failure) in
 * lifecycle.ts and its I/O in attempt.ts; the notifications in outbox.ts, the listing push in
 * listing.ts, the removal at expiry in retention.ts. An Idempotency-Key's record is not here:
 * it has its own object (src/idempotency/).
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
    // As #settle(), from what is in hand (the new job, its one event, no retention yet), not read back.
    await this.#armAt([processingDueAt, nextAlarmAt(uploaded.deliveries)]);
    const written = { ...record, notifications: uploaded.deliveries.map(notificationView) };
    if (!(await syncListing(this.#state, this.#listing(), createLogger(config.logLevel, { jobId: record.jobId, component: "job" }), written))) await this.#arm(true);
  }

  /** Forgets the job (record, reply, events, its copy of the model): nothing of it stays; the route removed the stored model first. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#stateOnce = undefined;
    this.#chunksOnce = undefined;
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
      // No job, so nothing is due: the object leaves nothing behind. This also clears the
      // objects named idempotency-key:* that held a key's record before keys had their own class.
      await this.forget();
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
    if (due !== null && due <= now) {
      const processor = () => this.#overrides.processor ?? selectProcessor(config.processing);
      const storage = () => this.#storage(config, log, circuits);
      const random = this.#overrides.random ?? Math.random;
      const owned = { state: this.#state, chunks: this.#chunks, outbox: this.#outbox(config) };
      await runProcessing({ ...owned, config, log, circuits, processor, storage, random, started: () => this.#settle(log) });
    }
    await this.#settle(log);
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
      const storage = this.#storage(config, log, circuits);
      await removeJobOutside({ storage, circuits, storageTimeoutMs: config.resilience.storageTimeoutMs, listing: this.#listing() }, record);
    } catch (error) {
      log.warn({ msg: "expired job not removed yet; the alarm tries again", outcome: "error", error: String(error) });
      await this.#setAlarm(Date.now() + RETENTION_RETRY_MS);
      return;
    }
    await this.forget();
    log.info({ msg: "expired job removed", outcome: "ok", finishedAt: record.updatedAt });
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

  #listing(): ProjectJobIndex {
    return this.#overrides.listing ?? durableProjectJobIndex(this.env.PROJECTS);
  }

  /** The alarm is set before the listing push, so a slow or failing push never delays the job's own work. */
  async #settle(log: Logger): Promise<void> {
    await this.#arm();
    if (!(await syncListing(this.#state, this.#listing(), log))) await this.#arm(true);
  }

  async #setAlarm(at: number): Promise<void> {
    this.#state.setAlarmAt(at);
    await this.ctx.storage.setAlarm(at);
  }
}
