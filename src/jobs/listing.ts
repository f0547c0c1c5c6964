import type { JobListItem } from "../api/jobs";
import type { Logger } from "../lib/log";
import type { ProjectJobIndex } from "../projects/client";
import { jobView } from "./record";
import type { JobState } from "./state";
import { notificationView } from "../notify/schedule";

/** How soon the alarm tries again when the project object could not take the job's view. */
export const LISTING_RETRY_MS = 5_000;

/**
 * Keeps the project's job listing (the project object's index) in step with this job. Every
 * state change bumps the job's updated_at in its own transaction, so "the listing has not seen
 * this version" is part of that transaction; the push happens after it, and one that fails is
 * retried by the job's alarm until the listing has caught up.
 */
export async function syncListing(state: JobState, index: ProjectJobIndex, log: Pick<Logger, "warn">): Promise<void> {
  const record = state.record();
  if (!record || state.listedUpdatedAt() === record.updatedAt) return;
  record.notifications = state.deliveries().map(notificationView);
  const { summary: _summary, ...view } = jobView(record);
  const item: JobListItem = view;
  try {
    await index.indexJob(item);
    state.markListed(item.updatedAt);
  } catch (error) {
    log.warn({ msg: "job listing not updated; the alarm retries", component: "job", error: String(error) });
  }
}

/** When the alarm must run for the listing: soon while it lags behind the job, else never. */
export function listingDueAt(state: JobState, now: number): number | null {
  const record = state.record();
  return record && state.listedUpdatedAt() !== record.updatedAt ? now + LISTING_RETRY_MS : null;
}
