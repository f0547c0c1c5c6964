import { DurableObject } from "cloudflare:workers";
import type { JobList, JobListItem } from "../api/jobs";
import { JobIndex, type JobListQuery } from "./job-index";
import type { EventType } from "../notify/events";
import type { WebhookTarget } from "../notify/webhook";
import { generateSecret } from "../notify/webhook-signature";
import type { SessionListing } from "../uploads/session-record";
import { type ListingPage, UploadIndex } from "../uploads/upload-index";

/** What the API shows of a subscription: never the secret. */
export interface WebhookSubscriptionView {
  projectId: string;
  url: string;
  events: EventType[];
  status: "active" | "disabled";
  disabledReason?: string;
  createdAt: string;
  updatedAt: string;
}

/** The PUT reply: the only time the secret is shown. */
export interface CreatedWebhookSubscription extends WebhookSubscriptionView {
  secret: string;
}

interface WebhookRow {
  subscription_id: string;
  url: string;
  events: string;
  secret: string;
  status: "active" | "disabled";
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  [column: string]: SqlStorageValue;
}

/**
 * One object per project (idFromName(projectId)): holds the project's webhook subscription
 * (a single row: a project has at most one; a PUT replaces it) and the index of its jobs.
 */
export class ProjectObject extends DurableObject<Env> {
  readonly #uploads: UploadIndex;
  readonly #jobs: JobIndex;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#uploads = new UploadIndex(ctx.storage.sql);
    this.#jobs = new JobIndex(ctx.storage.sql);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS webhook (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      subscription_id TEXT NOT NULL,
      url TEXT NOT NULL,
      events TEXT NOT NULL,
      secret TEXT NOT NULL,
      status TEXT NOT NULL,
      disabled_reason TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
  }

  #row(): WebhookRow | undefined {
    return this.ctx.storage.sql.exec<WebhookRow>("SELECT * FROM webhook WHERE singleton = 1").toArray()[0];
  }

  /** Creates or replaces the subscription with a fresh secret; the URL was checked by the caller. */
  async putWebhook(projectId: string, url: string, events: EventType[], now: string): Promise<CreatedWebhookSubscription> {
    const secret = generateSecret();
    const createdAt = this.#row()?.created_at ?? now;
    this.ctx.storage.sql.exec(
      `INSERT INTO webhook (singleton, subscription_id, url, events, secret, status, disabled_reason, created_at, updated_at)
       VALUES (1, ?, ?, ?, ?, 'active', NULL, ?, ?)
       ON CONFLICT(singleton) DO UPDATE SET subscription_id = excluded.subscription_id, url = excluded.url,
         events = excluded.events, secret = excluded.secret, status = 'active', disabled_reason = NULL,
         updated_at = excluded.updated_at`,
      crypto.randomUUID(),
      url,
      JSON.stringify(events),
      secret,
      createdAt,
      now,
    );
    return { ...this.#view(projectId), secret };
  }

  async getWebhook(projectId: string): Promise<WebhookSubscriptionView | null> {
    return this.#row() ? this.#view(projectId) : null;
  }

  async deleteWebhook(): Promise<boolean> {
    const existed = this.#row() !== undefined;
    this.ctx.storage.sql.exec("DELETE FROM webhook");
    return existed;
  }

  /** For deliveries only: includes the secret. */
  async webhookTarget(): Promise<WebhookTarget | null> {
    const row = this.#row();
    if (!row) return null;
    return { subscriptionId: row.subscription_id, url: row.url, events: JSON.parse(row.events) as EventType[], secret: row.secret, status: row.status };
  }

  /** Disables the subscription if it is still `subscriptionId`, so a newer PUT is not undone. */
  async disableWebhook(subscriptionId: string, reason: string, now: string): Promise<void> {
    this.ctx.storage.sql.exec(
      "UPDATE webhook SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE subscription_id = ?",
      reason,
      now,
      subscriptionId,
    );
  }

  /** Written by each upload session object when its status changes. */
  async recordUpload(listing: SessionListing): Promise<void> {
    this.#uploads.record(listing);
  }

  async listUploads(limit: number, cursor: string | undefined, now: number): Promise<ListingPage> {
    return this.#uploads.list(limit, cursor, now);
  }

  /** The job's current view, pushed by its job object; an older view than held is ignored. */
  async indexJob(item: JobListItem): Promise<void> {
    this.#jobs.put(item);
  }

  async forgetJob(jobId: string): Promise<boolean> {
    return this.#jobs.remove(jobId);
  }

  async listJobs(query: JobListQuery): Promise<JobList> {
    return this.#jobs.list(query);
  }

  #view(projectId: string): WebhookSubscriptionView {
    const row = this.#row();
    if (!row) throw new Error("no webhook subscription");
    const view: WebhookSubscriptionView = {
      projectId,
      url: row.url,
      events: JSON.parse(row.events) as EventType[],
      status: row.status,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    if (row.disabled_reason !== null) view.disabledReason = row.disabled_reason;
    return view;
  }
}
