/** The storage port: every adapter streams, none buffers a whole object. */
export interface PutOptions {
  /**
   * Exact byte length, given only for a body whose length the runtime knows too (the readable
   * side of a FixedLengthStream, or a request body with Content-Length): adapters may then
   * hand the stream on as it is, in a single PUT.
   */
  contentLength?: number;
  /**
   * An upper bound of the body's length where the exact one is unknown (a file inside a
   * multipart request of known Content-Length): a body that cannot reach one part is then read
   * into a buffer of that size instead of a whole part.
   */
  maxLength?: number;
  contentType?: string;
  /** Aborts the write (its deadline); adapters that talk HTTP pass it to fetch. */
  signal?: AbortSignal;
}

export interface GetOptions {
  /** Cancels the read (the caller's deadline): the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ByteRange {
  offset: number;
  length?: number;
}

export interface ObjectHead {
  key: string;
  size: number;
}

export interface ObjectBody extends ObjectHead {
  body: ReadableStream<Uint8Array>;
}

/** One part as the store confirmed it. */
export interface StoredPart {
  partNumber: number;
  size: number;
  /** As the store gave it, quotes included (S3 style). */
  etag: string;
}

export interface PartRef {
  partNumber: number;
  etag: string;
}

export interface MultipartCallOptions {
  /** Aborts the call (the guard's deadline). */
  signal?: AbortSignal;
}

/**
 * Multipart uploads that outlive a request (upload sessions): the store's upload id is kept
 * by the caller and every call names it again. Parts below 5 MiB are refused by S3 and R2
 * except the last, so callers choose the part size.
 */
export interface MultipartSessions {
  /** Starts a multipart upload of `key`; answers the store's upload id. */
  create(key: string, options?: MultipartCallOptions & { contentType?: string }): Promise<string>;
  /** Streams one part of exactly `size` bytes (the request's Content-Length). */
  uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, size: number, options?: MultipartCallOptions): Promise<StoredPart>;
  /**
   * The parts the store holds, ascending; null when the store cannot list them (the R2
   * binding), so the caller relies on the parts it saw confirmed.
   */
  listParts(key: string, uploadId: string, options?: MultipartCallOptions): Promise<StoredPart[] | null>;
  /** Joins the parts into the object; the store checks each ETag. */
  complete(key: string, uploadId: string, parts: PartRef[], options?: MultipartCallOptions): Promise<ObjectHead>;
  /** Drops the upload and its parts; an upload the store no longer knows counts as aborted. */
  abort(key: string, uploadId: string, options?: MultipartCallOptions): Promise<void>;
  /**
   * A URL a client may PUT one part to without the service in between (S3 query signing);
   * absent where the store cannot presign an UploadPart, so parts go through the service.
   */
  presignPart?(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
}

export interface ObjectStorage {
  readonly driver: "r2" | "memory" | "s3";
  /** Upload sessions; every real adapter has them (test fakes may leave them out). */
  readonly multipart?: MultipartSessions;
  /** Resolves once the whole stream is stored; rejects, leaving nothing behind, if the stream errors. */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<ObjectHead>;
  get(key: string, range?: ByteRange, options?: GetOptions): Promise<ObjectBody | null>;
  head(key: string): Promise<ObjectHead | null>;
  delete(key: string): Promise<void>;
  /** Cheap round trip used by /readyz. */
  ping(): Promise<void>;
}

/** Rejects with the signal's reason once it aborts: for calls that take no signal of their own. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Why storage failed, in the domain's words (not S3's): decides the answer to the client
 * and whether trying again can help.
 * - credentials: the service's keys or permissions are wrong (AccessDenied, bad signature)
 * - missing-bucket: the configured bucket does not exist
 * - throttled: the store asks us to slow down (SlowDown, 503)
 * - unavailable: the store failed on its side (InternalError, 5xx) or could not be reached
 * - timeout: no answer within the time limit
 * - rejected: the store refused the request for another reason (a 4xx we do not expect)
 * - no-such-upload: the multipart upload named is gone (completed, aborted or expired)
 * - invalid-part: a part named on completion is missing or its ETag differs
 */
export type StorageErrorCode =
  | "credentials"
  | "missing-bucket"
  | "throttled"
  | "unavailable"
  | "timeout"
  | "rejected"
  | "no-such-upload"
  | "invalid-part";

/** A dependency failure (not the client's fault): answered with 503 and logged. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; code?: StorageErrorCode },
  ) {
    super(message, options);
    this.name = "StorageError";
    this.code = options?.code ?? "unavailable";
  }
}
