import type { FailureCode } from "../processing/processor";
import type { NotificationView } from "../notify/schedule";
import type { ProcessingProgress } from "../processing/progress";
import type { ModelSummary } from "../processing/summary";

export type JobStatus = "queued" | "processing" | "succeeded" | "failed";

export interface FileInfo {
  name: string;
  size: number;
  /**
   * Computed on the way in for direct uploads; for upload sessions the SHA-256 the client
   * declared, or null. The processing pass hashes the stored model: it fills a null one, and
   * one that differs fails the job with checksum_mismatch.
   */
  sha256: string | null;
  schema: string;
}

export interface JobRecord {
  jobId: string;
  projectId: string;
  status: JobStatus;
  file: FileInfo;
  objectKey: string;
  /** Processing attempts started, the first included. */
  attempts: number;
  /** Present once the job succeeded; also stored as summary.json beside the model. */
  summary?: ModelSummary;
  /** While an attempt runs: its phase and the bytes of the model done so far. */
  progress?: ProcessingProgress;
  /** Present once the job failed. */
  error?: JobError;
  /** When the next attempt is due after a transient failure. */
  nextAttemptAt?: string;
  /** One entry per event and channel, as delivered so far. */
  notifications: NotificationView[];
  requestId: string;
  createdAt: string;
  updatedAt: string;
  /** Internal: set while an attempt runs, so an attempt the runtime cut off is noticed. */
  attemptStartedAt?: string;
  /** Internal: attempts that never finished (isolate killed, limits hit). */
  lostAttempts?: number;
}

export interface JobError {
  code: FailureCode;
  message: string;
}

/** What claiming a job id for an upload found (JobObject.reserve). */
export type Reservation =
  | { state: "reserved" }
  | { state: "in-progress"; projectId: string }
  | { state: "accepted"; projectId: string; reply: AcceptedUpload };

/** The 202 body of an accepted upload; an Idempotency-Key replays it as it was. */
export interface AcceptedUpload {
  jobId: string;
  projectId: string;
  status: "queued";
  file: FileInfo;
  links: { self: string };
  /** Present when the model came through an upload session. */
  upload?: { uploadId: string };
}

export type JobView = Omit<JobRecord, "objectKey" | "requestId" | "attemptStartedAt" | "lostAttempts">;

export function jobView(record: JobRecord): JobView {
  const { objectKey: _objectKey, requestId: _requestId, attemptStartedAt: _started, lostAttempts: _lost, ...view } = record;
  return view;
}

/**
 * summary.json lives beside the model: projects/{projectId}/models/{jobId}/summary.json.
 * A model uploaded under that very name keeps its bytes; its summary goes to model-summary.json.
 */
export function summaryObjectKey(objectKey: string): string {
  const folder = objectKey.slice(0, objectKey.lastIndexOf("/") + 1);
  return objectKey === `${folder}summary.json` ? `${folder}model-summary.json` : `${folder}summary.json`;
}

export const jobLink = (jobId: string): string => `/v1/jobs/${jobId}`;
