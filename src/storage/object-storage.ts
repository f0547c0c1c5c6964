/** The storage port: every adapter streams, none buffers a whole object. */
export interface PutOptions {
  /** Exact byte length when the caller knows it; adapters may use a single PUT then. */
  contentLength?: number;
  contentType?: string;
  /** Aborts the write (its deadline); adapters that talk HTTP pass it to fetch. */
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

export interface ObjectStorage {
  readonly driver: "r2" | "memory" | "s3";
  /** Resolves once the whole stream is stored; rejects, leaving nothing behind, if the stream errors. */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<ObjectHead>;
  get(key: string, range?: ByteRange): Promise<ObjectBody | null>;
  head(key: string): Promise<ObjectHead | null>;
  delete(key: string): Promise<void>;
  /** Cheap round trip used by /readyz. */
  ping(): Promise<void>;
}

/** A dependency failure (not the client's fault): answered with 503 and logged. */
export class StorageError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StorageError";
  }
}
