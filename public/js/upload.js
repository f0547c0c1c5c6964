// One file through the upload-session API (create, part URL, PUT part, list, complete), done
// by hand rather than with @uppy/aws-s3: see docs/console.md. Resumable after a reload: the
// session id is kept per file fingerprint and the parts the session lists are not sent again.
import { ProblemError, projectPath } from "./api.js";
import { RateMeter } from "./format.js";
import { backoffMs, completionList, isRetryable, partRange } from "./parts.js";
import { fingerprint, forget } from "./resume-store.js";
import { createSession, readSavedSession } from "./session-link.js";
import { partHeaders, sendPart, TransferAborted } from "./transfer.js";

/** Parts in flight per file: enough to fill a link, few enough for six connections per host. */
const CONCURRENCY = 3;
const MAX_PART_ATTEMPTS = 5;

/**
 * @typedef {"starting" | "uploading" | "paused" | "completing" | "accepted" | "failed" | "cancelled"} Phase
 * @typedef {import("./session-link.js").Session} Session
 */

export class Upload {
  /**
   * @param {{api: import("./api.js").Api, project: string, file: File, onChange: (upload: Upload) => void}} options
   */
  constructor(options) {
    this.api = options.api;
    this.project = options.project;
    this.file = options.file;
    this.onChange = options.onChange;
    this.fingerprint = fingerprint(options.file);
    /** @type {Phase} */
    this.phase = "starting";
    /** @type {ProblemError | null} */
    this.problem = null;
    /** @type {string | null} */
    this.jobId = null;
    /** Bytes already in the session when this page took the upload over (a resume). */
    this.resumedBytes = 0;
    this.bytesDone = 0;
    this.rate = 0;
    /** @type {Session | null} */
    this.session = null;
    /** @type {Map<number, string>} part number -> ETag */
    this.done = new Map();
    this.doneBytes = 0;
    /** @type {Map<number, {loaded: number, abort: () => void}>} */
    this.inFlight = new Map();
    this.meter = new RateMeter();
    this.runBaseline = 0;
    /** Bumped by pause and cancel, so workers of an earlier run stop. */
    this.generation = 0;
  }

  get sessionPath() {
    return `${projectPath(this.project)}/uploads/${encodeURIComponent(this.session?.uploadId ?? "")}`;
  }

  async start() {
    try {
      const resumed = await this.resumeSaved();
      if (resumed === "accepted") return;
      if (!resumed) await this.create();
      // Cancelled while the session was being created or read: it must not stay open.
      if (this.phase === "cancelled") return await this.abortSession();
      await this.run();
    } catch (error) {
      this.fail(error);
    }
  }

  pause() {
    if (this.phase !== "uploading") return;
    this.generation += 1;
    this.abortInFlight();
    this.set("paused");
  }

  resume() {
    if (this.phase !== "paused" && !(this.phase === "failed" && this.session)) return;
    const failed = this.phase === "failed";
    this.problem = null;
    this.continue(failed).catch((error) => this.fail(error));
  }

  /**
   * After a failure the session's own listing is the truth (a part may have landed, or a
   * completion found one missing); after a pause what this page holds is.
   * @param {boolean} relist
   */
  async continue(relist) {
    if (relist) {
      const open = await this.resumeSaved();
      if (open === "accepted") return;
      if (!open) {
        // The session is gone (expired, aborted): start over with a new one.
        this.done = new Map();
        this.doneBytes = 0;
        this.resumedBytes = 0;
        await this.create();
      }
    }
    await this.run();
  }

  async cancel() {
    if (this.phase === "accepted" || this.phase === "cancelled" || this.phase === "completing") return;
    this.generation += 1;
    this.abortInFlight();
    forget(this.project, this.fingerprint);
    this.set("cancelled");
    await this.abortSession();
  }

  async abortSession() {
    if (!this.session) return;
    forget(this.project, this.fingerprint);
    try {
      await this.api.json(this.sessionPath, { method: "DELETE" });
    } catch {
      // already gone or expired: either way nothing stays billed
    }
  }

  /**
   * Continues the session saved for this file, if the service still holds it open.
   * @returns {Promise<boolean | "accepted">} "accepted" when it was completed already
   */
  async resumeSaved() {
    const found = await readSavedSession(this.api, this.project, this.fingerprint, this.file.size);
    if (found.kind === "accepted") {
      this.jobId = found.jobId;
      this.bytesDone = this.file.size;
      this.set("accepted");
      return "accepted";
    }
    if (found.kind === "none") return false;
    this.session = found.session;
    this.done = found.plan.done;
    this.doneBytes = found.plan.doneBytes;
    this.resumedBytes = found.plan.doneBytes;
    this.bytesDone = found.plan.doneBytes;
    return true;
  }

  async create() {
    this.session = await createSession(this.api, this.project, this.file, this.fingerprint);
  }

  async run() {
    const session = this.session;
    if (!session) return;
    const generation = ++this.generation;
    this.meter.reset();
    this.runBaseline = this.doneBytes;
    this.set("uploading");
    /** @type {number[]} */
    const queue = [];
    for (let n = 1; n <= session.partCount; n += 1) if (!this.done.has(n)) queue.push(n);
    /** @type {{error: unknown} | null} */
    let failure = null;
    const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, () =>
      this.work(queue, session, generation).catch((error) => {
        // The first refused part stops the others at once; Resume picks up from there.
        if (failure) return;
        failure = { error };
        this.generation += 1;
        this.abortInFlight();
      }),
    );
    await Promise.all(workers);
    if (failure) throw /** @type {{error: unknown}} */ (failure).error;
    if (generation !== this.generation) return;
    await this.complete();
  }

  /** @param {number[]} queue @param {Session} session @param {number} generation */
  async work(queue, session, generation) {
    for (let n = queue.shift(); n !== undefined && generation === this.generation; n = queue.shift()) {
      await this.sendWithRetry(n, session, generation);
    }
  }

  /** @param {number} partNumber @param {Session} session @param {number} generation */
  async sendWithRetry(partNumber, session, generation) {
    const { start, end } = partRange(session.size, session.partSize, partNumber);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const target = await this.api.json(`${this.sessionPath}/parts/${partNumber}`);
        if (generation !== this.generation) return;
        const transfer = sendPart({
          url: target.url,
          method: target.method ?? "PUT",
          headers: partHeaders(target, this.api.token),
          body: this.file.slice(start, end),
          onProgress: (loaded) => {
            const entry = this.inFlight.get(partNumber);
            if (entry) entry.loaded = loaded;
            this.progress();
          },
        });
        this.inFlight.set(partNumber, { loaded: 0, abort: transfer.abort });
        const etag = await transfer.done;
        this.inFlight.delete(partNumber);
        if (generation !== this.generation) return;
        this.done.set(partNumber, etag);
        this.doneBytes += end - start;
        this.progress();
        return;
      } catch (error) {
        this.inFlight.delete(partNumber);
        if (error instanceof TransferAborted || generation !== this.generation) return;
        if (!(error instanceof ProblemError) || !isRetryable(error.status) || attempt >= MAX_PART_ATTEMPTS) throw error;
        await new Promise((done) => setTimeout(done, backoffMs(attempt)));
        if (generation !== this.generation) return;
      }
    }
  }

  async complete() {
    this.set("completing");
    try {
      const accepted = await this.api.json(`${this.sessionPath}/complete`, { method: "POST", body: { parts: completionList(this.done) } });
      forget(this.project, this.fingerprint);
      this.jobId = accepted.jobId;
      this.set("accepted");
    } catch (error) {
      // An incomplete upload stays open and can be resumed; a refused one (not IFC, bad
      // schema) has been deleted by the service.
      if (!(error instanceof ProblemError && (error.status === 400 || error.status === 0 || error.status >= 500))) {
        forget(this.project, this.fingerprint);
        this.session = null;
      }
      throw error;
    }
  }

  progress() {
    let loaded = 0;
    for (const entry of this.inFlight.values()) loaded += entry.loaded;
    this.bytesDone = Math.min(this.file.size, this.doneBytes + loaded);
    this.meter.add(performance.now(), this.bytesDone - this.runBaseline);
    this.rate = this.meter.rate();
    this.onChange(this);
  }

  abortInFlight() {
    for (const entry of this.inFlight.values()) entry.abort();
    this.inFlight.clear();
    this.bytesDone = this.doneBytes;
    this.rate = 0;
  }

  /** @param {unknown} error */
  fail(error) {
    if (this.phase === "cancelled") return;
    this.problem =
      error instanceof ProblemError
        ? error
        : new ProblemError({ status: 0, title: "Upload Failed", detail: error instanceof Error ? error.message : String(error) });
    this.set("failed");
  }

  /** @param {Phase} phase */
  set(phase) {
    this.phase = phase;
    this.onChange(this);
  }
}
