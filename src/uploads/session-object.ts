import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import { createLogger } from "../lib/log";
import type { AcceptedUpload } from "../jobs/record";
import { backoffDelayMs } from "../resilience/backoff";
import { CircuitClient } from "../circuits/client";
import { loggedStorage } from "../storage/logged-storage";
import { StorageError, type ObjectStorage, type StoredPart } from "../storage/object-storage";
import { selectStorage } from "../storage/select-storage";
import { type SessionStatus, type UploadSession, listingOf } from "./session-record";
import { SessionTable } from "./session-table";

/** A completion that never reported back (isolate killed) frees the session after this long. */
export const COMPLETION_LEASE_MS = 15 * 60 * 1000;
/** Aborting the store's upload is retried with backoff up to this many times. */
const MAX_CLEANUP_ATTEMPTS = 20;
const CLEANUP_BACKOFF = { baseMs: 30_000, capMs: 60 * 60 * 1000 };

export type Completion =
  | { state: "go"; session: UploadSession }
  | { state: "busy" }
  | { state: "done"; reply: AcceptedUpload }
  | { state: "closed"; status: SessionStatus };

export type CompletionEnd = { kind: "accepted"; reply: AcceptedUpload; parts: StoredPart[] } | { kind: "rejected" } | { kind: "retry" };

export interface SessionTestOverrides {
  env?: Partial<Env>;
  storage?: (configured: ObjectStorage) => ObjectStorage;
  circuitScope?: string;
}

/**
 * One object per upload session (idFromName(uploadId)): the session's settings, the parts the
 * store confirmed, and an alarm that aborts the store's multipart upload once the session
 * expires or is closed, so no parts stay billed. The project object keeps a listing row.
 */
export class UploadSessionObject extends DurableObject<Env> {
  readonly #table: SessionTable;
  #overrides: SessionTestOverrides = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#table = new SessionTable(ctx.storage.sql);
  }

  /** Test seam (statics are not reachable over RPC); used through runInDurableObject. */
  static overrideForTests(object: UploadSessionObject, overrides: SessionTestOverrides): void {
    object.#overrides = overrides;
  }

  /** Records a new session; a session already here (an Idempotency-Key's) is answered instead. */
  async create(session: UploadSession): Promise<{ created: boolean; session: UploadSession }> {
    const existing = this.#table.session();
    if (existing) return { created: false, session: existing };
    this.ctx.storage.transactionSync(() => this.#table.insert(session));
    await this.ctx.storage.setAlarm(Date.parse(session.expiresAt));
    await this.#index(session);
    return { created: true, session };
  }

  async get(): Promise<{ session: UploadSession; parts: StoredPart[] } | null> {
    const session = this.#table.session();
    return session ? { session, parts: this.#table.parts() } : null;
  }

  /** Keeps a part the store confirmed, while the session is open; answers the status otherwise. */
  async confirmPart(part: StoredPart, now: number): Promise<SessionStatus> {
    const status = this.#status(now);
    if (status === "open" || status === "completing") this.#table.putPart(part);
    return status;
  }

  /** Claims the session for one completion; a second completion meanwhile is told to wait. */
  async beginCompletion(now: number): Promise<Completion> {
    const session = this.#table.session();
    if (!session) return { state: "closed", status: "aborted" };
    if (session.reply) return { state: "done", reply: session.reply };
    const status = this.#status(now);
    const since = this.#table.housekeeping().completingSince;
    if (status === "completing" && since !== null && now - since < COMPLETION_LEASE_MS) return { state: "busy" };
    if (status !== "open" && status !== "completing") return { state: "closed", status };
    this.#table.setStatus("completing", now);
    return { state: "go", session };
  }

  async endCompletion(end: CompletionEnd): Promise<void> {
    const session = this.#table.session();
    if (!session) return;
    if (end.kind === "accepted") {
      const { reply, parts } = end;
      // The store forgets a completed upload's parts: the session keeps them for its listing.
      this.ctx.storage.transactionSync(() => {
        this.#table.setReply(reply);
        for (const part of parts) this.#table.putPart(part);
      });
    }
    // Refused content: the store's object was deleted; the upload cannot be resumed.
    else if (end.kind === "rejected") this.#table.setStatus("aborted");
    else this.#table.setStatus("open");
    const updated = this.#table.session();
    if (updated) await this.#index(updated);
  }

  /**
   * Closes an open session (DELETE). The store's upload is then aborted by the caller; until it
   * reports that done, the alarm stands by to do it.
   */
  async close(now: number): Promise<{ closed: boolean; status: SessionStatus; session: UploadSession | null }> {
    const session = this.#table.session();
    const status = this.#status(now);
    if (!session || status !== "open") return { closed: false, status, session };
    this.ctx.storage.transactionSync(() => {
      this.#table.setStatus("aborted");
      this.#table.setCleanup(true, 0);
    });
    await this.ctx.storage.setAlarm(now + CLEANUP_BACKOFF.baseMs);
    await this.#index({ ...session, status: "aborted" });
    return { closed: true, status: "aborted", session };
  }

  /** The store's upload is gone: nothing left for the alarm to do. */
  async cleanedUp(): Promise<void> {
    this.#table.setCleanup(false, 0);
    if (this.#table.session()?.status !== "open") await this.ctx.storage.deleteAlarm();
  }

  override async alarm(): Promise<void> {
    const session = this.#table.session();
    if (!session) return;
    const now = Date.now();
    const status = this.#status(now);
    if (status === "expired" && session.status !== "expired") {
      this.ctx.storage.transactionSync(() => {
        this.#table.setStatus("expired");
        this.#table.setCleanup(true, 0);
      });
      await this.#index({ ...session, status: "expired" });
    }
    const housekeeping = this.#table.housekeeping();
    if (housekeeping.cleanupPending) await this.#abortStorageUpload(session, housekeeping.cleanupAttempts);
    const after = this.#status(Date.now());
    if (after === "open" || after === "completing") await this.ctx.storage.setAlarm(Math.max(Date.parse(session.expiresAt), Date.now() + 1000));
  }

  async #abortStorageUpload(session: UploadSession, attempts: number): Promise<void> {
    const config = loadConfig({ ...this.env, ...this.#overrides.env });
    const log = createLogger(config.logLevel, { component: "upload-session", projectId: session.projectId, uploadId: session.uploadId });
    const circuits = new CircuitClient({
      namespace: this.env.CIRCUITS,
      policy: { breaker: config.resilience.breaker, budget: config.resilience.retryBudget },
      waitUntil: (promise) => this.ctx.waitUntil(promise),
      log,
      scope: this.#overrides.circuitScope,
    });
    const configured = loggedStorage(
      selectStorage(config, this.env, { log, waitUntil: (promise) => this.ctx.waitUntil(promise), spendRetry: circuits.retryBudget("storage") }),
      log,
    );
    const storage = this.#overrides.storage?.(configured) ?? configured;
    try {
      const multipart = storage.multipart;
      if (multipart) {
        await circuits.guard("storage", (signal) => multipart.abort(session.objectKey, session.storageUploadId, { signal }), {
          timeoutMs: Math.min(config.resilience.storageTimeoutMs, 30_000),
          classify: (error) => (error instanceof StorageError && !error.retryable ? "client-error" : "failure"),
        });
      }
      this.#table.setCleanup(false, 0);
      log.info({ msg: "storage upload of a closed session aborted", outcome: "ok", status: session.status });
    } catch (error) {
      const next = attempts + 1;
      if (next >= MAX_CLEANUP_ATTEMPTS) {
        this.#table.setCleanup(false, next);
        log.error({ msg: "gave up aborting a session's storage upload; a lifecycle rule must remove its parts", outcome: "error", error: String(error) });
        return;
      }
      this.#table.setCleanup(true, next);
      const delay = backoffDelayMs(attempts, CLEANUP_BACKOFF, Math.random);
      log.warn({ msg: "could not abort a session's storage upload; retrying", outcome: "error", attempt: next, retryInMs: delay, error: String(error) });
      await this.ctx.storage.setAlarm(Date.now() + Math.max(1000, delay));
    }
  }

  /** The stored status, with an open session past its expiry reported as expired. */
  #status(now: number): SessionStatus {
    const session = this.#table.session();
    if (!session) return "aborted";
    if (session.status === "completing") {
      const since = this.#table.housekeeping().completingSince ?? 0;
      if (now - since < COMPLETION_LEASE_MS) return "completing";
    }
    const open = session.status === "open" || session.status === "completing";
    if (open && Date.parse(session.expiresAt) <= now) return "expired";
    return session.status === "completing" ? "open" : session.status;
  }

  async #index(session: UploadSession): Promise<void> {
    const projects = this.env.PROJECTS;
    await projects.get(projects.idFromName(session.projectId)).recordUpload(listingOf(session, Date.now()));
  }
}
