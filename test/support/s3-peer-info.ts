/**
 * What a client needs to reach the test S3; handed from the Node global setup to workerd.
 * A type alias, not an interface, so it passes as a JSON binding.
 */
export type S3PeerInfo = {
  /** The SigV4-verifying proxy: use this as S3_ENDPOINT. */
  endpoint: string;
  /** s3rver itself, unverified: for diagnostics only. */
  s3rverUrl: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
};

/** The settings that point the service at this S3 peer (as --var flags or env overrides). */
export function s3Settings(peer: Pick<S3PeerInfo, "endpoint" | "bucket" | "region" | "accessKeyId" | "secretAccessKey">): Record<string, string> {
  return {
    STORAGE_DRIVER: "s3",
    S3_ENDPOINT: peer.endpoint,
    S3_BUCKET: peer.bucket,
    AWS_REGION: peer.region,
    AWS_ACCESS_KEY_ID: peer.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peer.secretAccessKey,
  };
}

export type S3Operation =
  | "PutObject"
  | "UploadPart"
  | "CreateMultipartUpload"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListParts"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "ListObjects"
  | "HeadBucket"
  | "CreateBucket"
  | "Other";

/** One request as the SigV4 proxy saw it (GET /__proxy/requests?prefix=KEY_PREFIX). */
export type RecordedRequest = {
  seq: number;
  method: string;
  bucket: string;
  key: string;
  query: Record<string, string>;
  operation: S3Operation;
  /** x-amz-server-side-encryption as sent, or null. */
  sse: string | null;
  sseKmsKeyId: string | null;
  /** x-amz-content-sha256 as sent: a hex hash, UNSIGNED-PAYLOAD, or null. */
  contentSha256: string | null;
  bytes: number;
  /** The proxy's verdict on the signature (header or presigned query). */
  signature: "valid" | "mismatch" | "unknown-key" | "missing" | "expired";
  /** Whether the request was authorised by a presigned URL (query signing). */
  presigned: boolean;
  status: number;
  /** ms since the proxy started: when the request began to arrive, and when the answer was sent. */
  startedAt: number;
  endedAt: number;
};

/** A multipart upload created and neither completed nor aborted (GET /__proxy/uploads?prefix=). */
export type PendingUpload = {
  uploadId: string;
  bucket: string;
  key: string;
};

export type UploadsReport = {
  pending: PendingUpload[];
  /** Of those, the ones s3rver still keeps parts for. */
  onDisk: string[];
};

/**
 * A fault the proxy answers instead of forwarding (POST /__proxy/faults), for S3 failures
 * s3rver cannot produce: throttling, internal errors, slow answers.
 */
export type FaultRule = {
  operation: S3Operation;
  keyPrefix: string;
  /** Only this part (UploadPart); any part when absent. */
  partNumber?: number;
  /** Answer this status with `code` as S3 XML; forward normally (after the delay) when absent. */
  status?: number;
  code?: string;
  /** Wait this long before answering or forwarding. */
  delayMs?: number;
  /** How many matching requests get the fault. */
  times: number;
};
