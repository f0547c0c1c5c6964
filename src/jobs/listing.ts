import type { JobListItem } from "../api/jobs";
import type { Logger } from "../lib/log";
import type { ProjectJobIndex } from "../projects/client";
import { type JobRecord, jobView } from "./record";
import type { JobState } from "./state";
import { notificationView } from "../notify/schedule";

/** How soon the alarm tries again when the project object could not take the job's view. */
export const LISTING_RETRY_MS = 5_000;

/**
 * Keeps the project's job listing (the project object's index) in step with this job. Every
 * state change bumps the job's updated_at in its own transaction, so "the listing has not seen
 * this version" is part of that transaction; the push happens after it (and after the alarm is
 * set, so it never delays the job's own work), and one that fails is retried by the job's alarm
 * until the listing has caught up. Answers whether the listing is up to date.
 */
export async function syncListing(state: JobState, index: ProjectJobIndex, log: Pick<Logger, "warn">, written?: JobRecord): Promise<boolean> {
  // `written`: the job with its notifications exactly as the caller has just stored it (a new
  // job, never listed), so nothing needs reading back.
  const record = written ?? state.record();
  if (!record || (written === undefined && state.listedUpdatedAt() === record.updatedAt)) return true;
  if (written === undefined) record.notifications = state.deliveries().map(notificationView);
  const { summary: _summary, ...view } = jobView(record);
  const item: JobListItem = view;
  try {
    await index.indexJob(item);
    state.markListed(item.updatedAt);
    return true;
  } catch (error) {
    log.warn({ msg: "job listing not updated; the alarm retries", component: "job", error: String(error) });
    return false;
  }
}
