/**
 * Upload sessions as the API contract fixes them. Written out rather than inferred from
 * src/uploads/schemas.ts, which the Worker's types reach into; test/worker/client-types.test.ts
 * holds them equal to the routes' schemas at compile time.
 */
export interface CreateUploadRequest {
  filename: string;
  size: number;
  sha256?: string;
}

export interface UploadSession {
  uploadId: string;
  projectId: string;
  filename: string;
  size: number;
  partSize: number;
  partCount: number;
  expiresAt: string;
  links: { self: string };
}

export interface UploadedPart {
  partNumber: number;
  size: number;
  etag: string;
}

export interface UploadSessionState {
  uploadId: string;
  projectId: string;
  filename: string;
  status: "open" | "completed" | "aborted" | "expired";
  size: number;
  partSize: number;
  partCount: number;
  parts: UploadedPart[];
  createdAt: string;
  expiresAt: string;
  jobId?: string;
  links: { self: string; job?: string };
}

export interface UploadSessionList {
  uploads: { uploadId: string; filename: string; status: UploadSessionState["status"]; size: number; createdAt: string; expiresAt: string; jobId?: string }[];
  nextCursor?: string;
}

/** Where and how to send one part: a presigned S3 URL, or the service's own part endpoint. */
export interface PartTarget {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: string;
}
