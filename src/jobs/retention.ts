import type { CircuitClient } from "../circuits/client";
import type { ObjectStorage } from "../storage/object-storage";
import type { ProjectJobIndex } from "../projects/client";
import { type JobRecord, summaryObjectKey } from "./record";

/** A removal that failed (storage, the listing) is tried again after this long. */
export const RETENTION_RETRY_MS = 10 * 60_000;

/** When a finished job expires; null while it is not finished. */
export function retentionDueAt(finishedAt: number | null, retentionMs: number): number | null {
  return finishedAt === null ? null : finishedAt + retentionMs;
}

export interface ExpiryDeps {
  storage: ObjectStorage;
  circuits: CircuitClient;
  storageTimeoutMs: number;
  listing: ProjectJobIndex;
}

/**
 * Removes what a job keeps outside its own object, as DELETE /v1/jobs/{jobId} does: the stored
 * model and its summary.json (each behind the storage breaker), then the job's entry in its
 * project's listing. Throws when any of it failed, so the job object keeps its record and tries
 * again; each step is safe to repeat.
 */
export async function removeJobOutside(deps: ExpiryDeps, record: JobRecord): Promise<void> {
  for (const key of [record.objectKey, summaryObjectKey(record.objectKey)]) {
    await deps.circuits.guard("storage", () => deps.storage.delete(key), { timeoutMs: deps.storageTimeoutMs });
  }
  await deps.listing.forgetJob(record.projectId, record.jobId);
}
