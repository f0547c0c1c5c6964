export { type AcceptedUpload, type ClientOptions, IngestClient, type Job, type JobList, type JobStatus, type ModelSummary, type UploadBody, type UploadOptions } from "./client";
export { ApiError, type Problem } from "./problem";
export type { CreateUploadRequest, PartTarget, UploadedPart, UploadSession, UploadSessionState } from "./upload-session-types";
