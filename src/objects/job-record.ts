export type JobStatus = "queued" | "processing" | "succeeded" | "failed";

export interface FileInfo {
  name: string;
  size: number;
  sha256: string;
  schema: string;
}

export interface NotificationState {
  channel: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastError?: string;
}

export interface JobRecord {
  jobId: string;
  projectId: string;
  status: JobStatus;
  file: FileInfo;
  objectKey: string;
  attempts: number;
  notifications: NotificationState[];
  requestId: string;
  createdAt: string;
  updatedAt: string;
}

/** The 202 body of an accepted upload; an Idempotency-Key replays it as it was. */
export interface AcceptedUpload {
  jobId: string;
  projectId: string;
  status: "queued";
  file: FileInfo;
  links: { self: string };
}

export type JobView = Omit<JobRecord, "objectKey" | "requestId">;

export function jobView(record: JobRecord): JobView {
  const { objectKey: _objectKey, requestId: _requestId, ...view } = record;
  return view;
}

export const jobLink = (jobId: string): string => `/v1/jobs/${jobId}`;
