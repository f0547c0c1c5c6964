/**
 * The job's tables and every change to them: longer than our files usually are because each
 * transaction must see all the tables it writes, and splitting the gateway would split them.
 */
import type { NotificationEvent } from "../notify/events";
import type { NotificationState } from "../notify/schedule";
import type { ProcessingProgress } from "../processing/progress";
import type { ModelSummary } from "../processing/summary";
import type { AcceptedUpload, FileInfo, JobError, JobRecord, JobStatus } from "./record";
import { migrate } from "./state-schema";

type JobRow = {
  job_id: string;
  project_id: string;
  status: JobStatus;
  file: string;
  object_key: string;
  request_id: string;
  attempts: number;
  lost_attempts: number;
  attempt_started_at: number | null;
  next_attempt_at: number | null;
  processing_due_at: number | null;
  summary: string | null;
  progress: string | null;
  error_code: JobError["code"] | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
};

type DeliveryRow = {
  event_id: string;
  event_type: NotificationState["eventType"];
  channel: NotificationState["channel"];
  status: NotificationState["status"];
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
};

/** An event and the deliveries it starts, written in the same transaction as the change that caused it. */
export interface PlannedEvent {
  event: NotificationEvent;
  deliveries: NotificationState[];
}

/** How an attempt ended, as the job records it. */
export type AttemptEnd =
  | { kind: "succeeded"; summary: ModelSummary; file: FileInfo; event: PlannedEvent }
  | { kind: "failed"; error: JobError; event: PlannedEvent }
  | { kind: "retry"; at: number }
  /** Turned away by a breaker: the attempt is not counted and status goes back to what it was. */
  | { kind: "deferred"; at: number; status: JobStatus; attempts: number };

/**
 * The job object's state in typed SQLite tables (schema and migrations in state-schema.ts).
 * Every method that changes more than one row does it in one transaction, so a failure part
 * way leaves the previous state whole; readers never see half a change.
 */
export class JobState {
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    migrate(storage);
  }

  get #sql(): SqlStorage {
    return this.#storage.sql;
  }

  reservation(): { projectId: string; at: number } | null {
    const row = this.#sql.exec<{ project_id: string; reserved_at: number }>("SELECT project_id, reserved_at FROM reservation").toArray()[0];
    return row ? { projectId: row.project_id, at: row.reserved_at } : null;
  }

  reserve(projectId: string, at: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO reservation (singleton, project_id, reserved_at) VALUES (1, ?, ?)", projectId, at);
  }

  release(): void {
    this.#sql.exec("DELETE FROM reservation");
  }

  reply(): AcceptedUpload | null {
    const row = this.#sql.exec<{ body: string }>("SELECT body FROM reply").toArray()[0];
    return row ? (JSON.parse(row.body) as AcceptedUpload) : null;
  }

  /** The accepted upload: its reply, record, first event and first processing time, together. */
  accept(record: JobRecord, reply: AcceptedUpload, processingDueAt: number, uploaded: PlannedEvent): void {
    this.#storage.transactionSync(() => {
      this.#sql.exec("INSERT INTO reply (singleton, body) VALUES (1, ?)", JSON.stringify(reply));
      this.#sql.exec("DELETE FROM reservation");
      this.#sql.exec(
        `INSERT INTO job (singleton, job_id, project_id, status, file, object_key, request_id, attempts, lost_attempts,
           processing_due_at, created_at, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
        record.jobId,
        record.projectId,
        record.status,
        JSON.stringify(record.file),
        record.objectKey,
        record.requestId,
        record.attempts,
        processingDueAt,
        record.createdAt,
        record.updatedAt,
      );
      this.#addEvent(uploaded);
    });
  }

  record(): JobRecord | null {
    const row = this.#sql.exec<JobRow>("SELECT * FROM job").toArray()[0];
    if (!row) return null;
    const record: JobRecord = {
      jobId: row.job_id,
      projectId: row.project_id,
      status: row.status,
      file: JSON.parse(row.file) as JobRecord["file"],
      objectKey: row.object_key,
      attempts: row.attempts,
      notifications: [],
      requestId: row.request_id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    if (row.summary !== null) record.summary = JSON.parse(row.summary) as ModelSummary;
    if (row.progress !== null && row.status === "processing") record.progress = JSON.parse(row.progress) as ProcessingProgress;
    if (row.error_code !== null) record.error = { code: row.error_code, message: row.error_message ?? "" };
    if (row.next_attempt_at !== null) record.nextAttemptAt = new Date(row.next_attempt_at).toISOString();
    if (row.attempt_started_at !== null) record.attemptStartedAt = new Date(row.attempt_started_at).toISOString();
    if (row.lost_attempts > 0) record.lostAttempts = row.lost_attempts;
    return record;
  }

  /** When the job succeeded or failed (its retention counts from here); null while it runs. */
  finishedAt(): number | null {
    return this.#sql.exec<{ at: number | null }>("SELECT finished_at AS at FROM job").toArray()[0]?.at ?? null;
  }

  /** When processing is next due (an attempt, a retry, or the watchdog of a running attempt). */
  processingDueAt(): number | null {
    const row = this.#sql.exec<{ at: number | null; status: JobStatus }>("SELECT processing_due_at AS at, status FROM job").toArray()[0];
    if (!row || (row.status !== "queued" && row.status !== "processing")) return null;
    return row.at;
  }

  /** Marks an attempt as running; the watchdog time is when it counts as lost if it never ends. */
  startAttempt(now: number, watchdogAt: number): void {
    this.#sql.exec(
      `UPDATE job SET status = 'processing', attempts = attempts + 1, attempt_started_at = ?, next_attempt_at = NULL,
         processing_due_at = ?, progress = NULL, updated_at = ?`,
      now,
      watchdogAt,
      new Date(now).toISOString(),
    );
  }

  /** How far the running attempt is (one row update; shown while the job processes). */
  setProgress(progress: ProcessingProgress): void {
    this.#sql.exec("UPDATE job SET progress = ? WHERE status = 'processing'", JSON.stringify(progress));
  }

  /** An attempt the runtime cut off (it started and never ended): counted, so it cannot loop. */
  noteLostAttempt(now: number): number {
    this.#sql.exec("UPDATE job SET attempt_started_at = NULL, lost_attempts = lost_attempts + 1, updated_at = ?", new Date(now).toISOString());
    return this.#sql.exec<{ lost: number }>("SELECT lost_attempts AS lost FROM job").one().lost;
  }

  /**
   * Records how an attempt ended: the record, the summary or error, and the event, together;
   * `finished` runs inside the same transaction when the job ends (succeeded or failed).
   */
  endAttempt(end: AttemptEnd, now: number, finished?: () => void): void {
    const updatedAt = new Date(now).toISOString();
    this.#storage.transactionSync(() => {
      if (end.kind === "succeeded" || end.kind === "failed") finished?.();
      switch (end.kind) {
        case "succeeded":
          this.#sql.exec(
            `UPDATE job SET status = 'succeeded', summary = ?, file = ?, attempt_started_at = NULL, next_attempt_at = NULL,
               processing_due_at = NULL, updated_at = ?, finished_at = ?`,
            JSON.stringify(end.summary),
            JSON.stringify(end.file),
            updatedAt,
            now,
          );
          this.#addEvent(end.event);
          return;
        case "failed":
          this.#sql.exec(
            `UPDATE job SET status = 'failed', error_code = ?, error_message = ?, attempt_started_at = NULL,
               next_attempt_at = NULL, processing_due_at = NULL, updated_at = ?, finished_at = ?`,
            end.error.code,
            end.error.message,
            updatedAt,
            now,
          );
          this.#addEvent(end.event);
          return;
        case "retry":
          this.#sql.exec(
            "UPDATE job SET attempt_started_at = NULL, next_attempt_at = ?, processing_due_at = ?, updated_at = ?",
            end.at,
            end.at,
            updatedAt,
          );
          return;
        case "deferred":
          this.#sql.exec(
            `UPDATE job SET status = ?, attempts = ?, attempt_started_at = NULL, next_attempt_at = ?, processing_due_at = ?,
               updated_at = ?`,
            end.status,
            end.attempts,
            end.at,
            end.at,
            updatedAt,
          );
          return;
      }
    });
  }

  /** Every event planned so far, oldest first. */
  events(): NotificationEvent[] {
    return this.#sql.exec<{ body: string }>("SELECT body FROM events ORDER BY seq").toArray().map((row) => JSON.parse(row.body) as NotificationEvent);
  }

  /** Every delivery (event x channel), in the order the events were planned. */
  deliveries(): NotificationState[] {
    return this.#sql
      .exec<DeliveryRow>("SELECT * FROM deliveries ORDER BY seq, channel")
      .toArray()
      .map((row) => {
        const state: NotificationState = {
          eventId: row.event_id,
          eventType: row.event_type,
          channel: row.channel,
          status: row.status,
          attempts: row.attempts,
          nextAttemptAt: row.next_attempt_at,
        };
        if (row.last_error !== null) state.lastError = row.last_error;
        return state;
      });
  }

  /** Stores the outcome of a delivery round, every delivery in one transaction. */
  saveDeliveries(states: readonly NotificationState[], now: number): void {
    this.#storage.transactionSync(() => {
      for (const state of states) {
        this.#sql.exec(
          "UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE event_id = ? AND channel = ?",
          state.status,
          state.attempts,
          state.lastError ?? null,
          state.nextAttemptAt,
          state.eventId,
          state.channel,
        );
      }
      this.#sql.exec("UPDATE job SET updated_at = ?", new Date(now).toISOString());
    });
  }

  /** Every row of the job, in one transaction (DELETE /v1/jobs/{jobId}). */
  forget(): void {
    this.#storage.transactionSync(() => {
      for (const table of ["deliveries", "events", "job", "reply", "reservation", "alarm"]) this.#sql.exec(`DELETE FROM ${table}`);
    });
  }

  /** The updated_at of the version the project's listing has; null before the first push. */
  listedUpdatedAt(): string | null {
    return this.#sql.exec<{ at: string | null }>("SELECT listed_updated_at AS at FROM job").toArray()[0]?.at ?? null;
  }

  markListed(updatedAt: string): void {
    this.#sql.exec("UPDATE job SET listed_updated_at = ?", updatedAt);
  }

  /** The alarm time last set, so an alarm that runs early still does the work it was set for. */
  alarmAt(): number | null {
    return this.#sql.exec<{ at: number }>("SELECT at FROM alarm").toArray()[0]?.at ?? null;
  }

  setAlarmAt(at: number | null): void {
    if (at === null) this.#sql.exec("DELETE FROM alarm");
    else this.#sql.exec("INSERT OR REPLACE INTO alarm (singleton, at) VALUES (1, ?)", at);
  }

  #addEvent(planned: PlannedEvent): void {
    const seq = this.#sql.exec<{ next: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM events").one().next;
    this.#sql.exec("INSERT INTO events (id, seq, body) VALUES (?, ?, ?)", planned.event.id, seq, JSON.stringify(planned.event));
    for (const delivery of planned.deliveries) {
      this.#sql.exec(
        `INSERT INTO deliveries (event_id, channel, event_type, seq, status, attempts, last_error, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        delivery.eventId,
        delivery.channel,
        delivery.eventType,
        seq,
        delivery.status,
        delivery.attempts,
        delivery.lastError ?? null,
        delivery.nextAttemptAt,
      );
    }
  }
}
