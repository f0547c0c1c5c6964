/** Upload sessions as issue 12 fixes them (names and shapes are part of the API contract). */
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
  status: "open" | "completed" | "aborted" | "expired";
  size: number;
  partSize: number;
  partCount: number;
  parts: UploadedPart[];
  jobId?: string;
}

/** Where and how to send one part: a presigned S3 URL, or the service's own part endpoint. */
export interface PartTarget {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: string;
}
