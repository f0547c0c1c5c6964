/**
 * The S3 adapter, longer than our files usually are because every operation of the port
 * shares one signer, one retry loop and one error mapping; split up, each piece would need
 * the others' internals.
 */
import { AwsClient } from "aws4fetch";
import { type Logger, logDependencyCall } from "../lib/log";
import { INLINE_BACKOFF } from "../resilience/backoff";
import { retryWithBackoff } from "../resilience/retry";
import type { RetryKind } from "../resilience/retry-budget";
import type { ByteRange, GetOptions, ObjectBody, ObjectHead, ObjectStorage, PutOptions } from "./object-storage";
import { StorageError } from "./object-storage";
import { type BufferBudget, PartBuffers, isolateBufferBudget } from "./buffer-budget";
import { bodyStream, fixedSizeParts, unwrapSource, withBoundedBody } from "./parts";
import { S3Multipart } from "./s3-multipart";
import { S3StorageError, escapeXml, parseS3Error, s3ResponseError, s3TransportError, xmlText } from "./s3-errors";
import { toHex } from "../lib/hex";

const MiB = 1024 * 1024;
/** S3 refuses parts below 5 MiB (all but the last). */
export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_DEFAULT_PART_SIZE = 8 * MiB;
export const S3_DEFAULT_UPLOAD_CONCURRENCY = 4;
/** S3 numbers parts 1..10000. */
const S3_MAX_PARTS = 10_000;
/** Tries per call (the first included) for calls that are safe to repeat. */
const ATTEMPTS = 3;

export type S3Encryption = { mode: "AES256" } | { mode: "aws:kms"; kmsKeyId: string };

/** The validated S3 settings (src/config.ts builds them from the environment). */
export interface S3Settings {
  bucket: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); requests then go path-style. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  partSize: number;
  uploadConcurrency: number;
  encryption: S3Encryption;
  /**
   * Sign the SHA-256 of object and part bodies (S3 then rejects damaged bytes) instead of
   * sending UNSIGNED-PAYLOAD. Off by default: over HTTPS, TLS already protects the bytes, and the
   * extra pass over every byte costs Worker CPU time (the upload's SHA-256 is computed anyway).
   */
  signPayload: boolean;
}

export interface S3Timeouts {
  /** Calls without a large body: Create/Complete/Abort, Head, Delete, the start of a Get. */
  requestMs: number;
  /** Calls that carry a part or a whole small object. */
  transferMs: number;
}

export interface S3Runtime {
  log: Logger;
  /** Keeps the AbortMultipartUpload of a failed upload running after the client has gone. */
  waitUntil?: (promise: Promise<unknown>) => void;
  timeouts?: Partial<S3Timeouts>;
  /** Part buffers of all uploads in the isolate (UPLOAD_BUFFER_BYTES); default 80 MiB. */
  bufferBudget?: BufferBudget;
  /**
   * The storage retry budget (the circuit's `spendRetry`), asked before every inline retry;
   * without it, retries are limited by the attempt count alone.
   */
  spendRetry?: (kind: RetryKind) => Promise<boolean>;
  /** Injected for tests of the retry path; default Math.random and setTimeout. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_TIMEOUTS: S3Timeouts = { requestMs: 10_000, transferMs: 60_000 };

/**
 * S3 (or any S3-compatible store) over fetch with SigV4 from aws4fetch.
 * Bodies of unknown length are cut into parts of `partSize`: a body that fits in one part
 * is sent with PutObject, anything longer as a multipart upload with at most
 * `uploadConcurrency` parts in flight, so memory stays at about (concurrency + 1) parts
 * whatever the file size. A failed upload is aborted, so no parts are left to pay for.
 */
export class S3Storage implements ObjectStorage {
  readonly driver = "s3";
  readonly #settings: S3Settings;
  readonly #client: AwsClient;
  readonly #log: Logger;
  readonly #runtime: S3Runtime;
  readonly #timeouts: S3Timeouts;
  readonly #base: string;
  readonly multipart: S3Multipart;

  constructor(settings: S3Settings, runtime: S3Runtime) {
    this.#settings = settings;
    this.#runtime = runtime;
    this.#log = runtime.log.child({ component: "storage", driver: "s3" });
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...runtime.timeouts };
    // aws4fetch retries 5xx on its own by default; retries here follow our backoff policy instead.
    this.#client = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      region: settings.region,
      service: "s3",
      retries: 0,
    });
    this.#base = bucketUrl(settings);
    this.multipart = new S3Multipart({
      client: this.#client,
      url: (key, query) => this.#url(key, query),
      encryptionHeaders: () => this.#encryptionHeaders(),
      send: (operation, url, init, kind, abort) =>
        this.#send(operation, url, init, kind === "request" ? this.#timeouts.requestMs : this.#timeouts.transferMs, { abort }),
      retrying: (operation, call, abort) => this.#retrying(operation, call, abort),
    });
  }

  async put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<ObjectHead> {
    const budget = this.#runtime.bufferBudget ?? isolateBufferBudget();
    const bound = options.contentLength ?? options.maxLength;
    if (bound !== undefined && bound < this.#settings.partSize) {
      return withBoundedBody(body, bound, budget, async (bytes) => {
        await this.#putObject(key, bytes, options.contentType, options.signal);
        return { key, size: bytes.byteLength };
      });
    }
    // Buffers of uploaded parts are filled again, so a long upload allocates only the parts in
    // flight plus one instead of leaving one buffer per part to the GC, within the isolate's budget.
    const buffers = new PartBuffers(budget, this.#settings.partSize);
    try {
      const parts = fixedSizeParts(body, this.#settings.partSize, () => buffers.take());
      let first: IteratorResult<Uint8Array>;
      try {
        first = await parts.next();
      } catch (error) {
        throw unwrapSource(error);
      }
      // fixedSizeParts yields a short part only at the end of the stream: then one PUT suffices.
      if (first.done || first.value.byteLength < this.#settings.partSize) {
        const bytes = first.done ? new Uint8Array(0) : first.value;
        await this.#putObject(key, bytes, options.contentType, options.signal);
        return { key, size: bytes.byteLength };
      }
      return await this.#putMultipart(key, body, first.value, parts, options.contentType, options.signal, buffers);
    } finally {
      buffers.release();
    }
  }

  async #putObject(key: string, bytes: Uint8Array, contentType: string | undefined, abort: AbortSignal | undefined): Promise<void> {
    const headers = { ...this.#encryptionHeaders(), ...contentTypeHeader(contentType), ...(await this.#payloadHash(bytes)) };
    await this.#retrying(
      "PutObject",
      () => this.#send("PutObject", this.#url(key), { method: "PUT", headers, body: bodyStream(bytes) }, this.#timeouts.transferMs, { abort }),
      abort,
    );
  }

  async #putMultipart(
    key: string,
    source: ReadableStream<Uint8Array>,
    first: Uint8Array,
    rest: AsyncGenerator<Uint8Array>,
    contentType: string | undefined,
    abort: AbortSignal | undefined,
    buffers: PartBuffers,
  ): Promise<ObjectHead> {
    const uploadId = await this.#createMultipartUpload(key, contentType, abort);
    const etags: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let partFailure: unknown;
    let sourceFailure: { error: unknown } | undefined;
    let size = 0;
    let partsStarted = 0;

    const start = (bytes: Uint8Array): void => {
      const partNumber = ++partsStarted;
      size += bytes.byteLength;
      const task: Promise<void> = this.#uploadPart(key, uploadId, partNumber, bytes, abort)
        .then(
          (etag) => {
            etags[partNumber - 1] = etag;
          },
          (error: unknown) => {
            partFailure ??= error;
          },
        )
        .finally(() => {
          inFlight.delete(task);
          buffers.give(bytes);
        });
      inFlight.add(task);
    };

    try {
      start(first);
      for (;;) {
        // The next part is read from the client while the others upload (reading is the slow
        // side behind wrangler or a slow client); it waits for a free slot only once it is full.
        // So memory holds at most `uploadConcurrency` parts in flight plus the one being filled,
        // fewer when the isolate's buffer budget is spent.
        const next = await rest.next();
        if (next.done || partFailure !== undefined) break;
        if (partsStarted >= S3_MAX_PARTS) {
          partFailure = new StorageError(`S3 multipart upload of ${key} needs more than ${S3_MAX_PARTS} parts; raise S3_PART_SIZE`, false, { code: "rejected" });
          break;
        }
        while (inFlight.size >= this.#settings.uploadConcurrency && partFailure === undefined) await Promise.race(inFlight);
        if (partFailure !== undefined) break;
        start(next.value);
      }
    } catch (error) {
      sourceFailure = { error: unwrapSource(error) };
    }
    await Promise.all(inFlight);

    if (partFailure === undefined && sourceFailure === undefined) {
      try {
        await this.#completeMultipartUpload(key, uploadId, etags, abort);
        return { key, size };
      } catch (error) {
        partFailure = error;
      }
    }
    // Stop reading the client: nothing more of this upload will be stored.
    await rest.return(undefined).catch(() => undefined);
    await source.cancel("upload failed").catch(() => undefined);
    await this.#abortMultipartUpload(key, uploadId);
    // The client's own failure (gone, or rejected by the inspection) explains more than ours.
    throw sourceFailure ? sourceFailure.error : partFailure;
  }

  async #createMultipartUpload(key: string, contentType: string | undefined, abort: AbortSignal | undefined): Promise<string> {
    // Not retried: a lost answer to a retried create would leave an upload nobody aborts.
    const response = await this.#send(
      "CreateMultipartUpload",
      this.#url(key, "uploads="),
      { method: "POST", headers: { ...this.#encryptionHeaders(), ...contentTypeHeader(contentType) } },
      this.#timeouts.requestMs,
      { abort },
    );
    const uploadId = xmlText(await response.text(), "UploadId");
    if (!uploadId) throw new StorageError("S3 CreateMultipartUpload answered without an UploadId", false, { code: "rejected" });
    return uploadId;
  }

  async #uploadPart(key: string, uploadId: string, partNumber: number, bytes: Uint8Array, abort: AbortSignal | undefined): Promise<string> {
    const url = this.#url(key, `partNumber=${partNumber}&uploadId=${encodeRfc3986(uploadId)}`);
    const headers = await this.#payloadHash(bytes);
    const response = await this.#retrying(
      "UploadPart",
      () => this.#send("UploadPart", url, { method: "PUT", headers, body: bodyStream(bytes) }, this.#timeouts.transferMs, { abort }),
      abort,
    );
    const etag = response.headers.get("etag");
    if (!etag) throw new StorageError(`S3 UploadPart ${partNumber} answered without an ETag`, false, { code: "rejected" });
    return etag;
  }

  async #completeMultipartUpload(key: string, uploadId: string, etags: string[], abort: AbortSignal | undefined): Promise<void> {
    const xml =
      "<CompleteMultipartUpload>" +
      etags.map((etag, index) => `<Part><PartNumber>${index + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join("") +
      "</CompleteMultipartUpload>";
    const body = new TextEncoder().encode(xml);
    const response = await this.#send(
      "CompleteMultipartUpload",
      this.#url(key, `uploadId=${encodeRfc3986(uploadId)}`),
      { method: "POST", headers: { "content-type": "application/xml", "x-amz-content-sha256": await sha256Hex(body) }, body },
      this.#timeouts.transferMs,
      { abort },
    );
    // S3 may answer 200 and still report a failure in the body.
    const text = await response.text();
    if (text.includes("<Error>")) throw s3ResponseError("CompleteMultipartUpload", 200, text);
  }

  /** Best effort, and kept alive past the request: parts left behind cost money until a lifecycle rule removes them. */
  async #abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const abort = this.#retrying("AbortMultipartUpload", () =>
      this.#send("AbortMultipartUpload", this.#url(key, `uploadId=${encodeRfc3986(uploadId)}`), { method: "DELETE" }, this.#timeouts.requestMs),
    ).then(
      () => undefined,
      (error: unknown) => {
        this.#log.error({
          msg: "could not abort an S3 multipart upload; its parts remain until a lifecycle rule removes them",
          key,
          uploadId,
          outcome: "error",
          error: error instanceof Error ? error.message : String(error),
        });
      },
    );
    this.#runtime.waitUntil?.(abort);
    await abort;
  }

  async get(key: string, range?: ByteRange, options: GetOptions = {}): Promise<ObjectBody | null> {
    const headers: Record<string, string> = {};
    if (range) {
      const last = range.length === undefined ? "" : String(range.offset + range.length - 1);
      if (range.length === 0) return this.#emptyBody(key);
      headers.range = `bytes=${range.offset}-${last}`;
    }
    const caller = options.signal;
    // Each attempt gets a deadline of its own for the wait for the answer (not for reading a
    // large body): one shared deadline, once passed, would fail every retry at once and still
    // spend the budget on them. The caller's signal ends the attempts and the body.
    const response = await this.#retrying(
      "GetObject",
      async () => {
        const deadline = new AbortController();
        const timer = setTimeout(() => deadline.abort(new DOMException("S3 GetObject timed out", "TimeoutError")), this.#timeouts.requestMs);
        try {
          const signal = caller ? AbortSignal.any([caller, deadline.signal]) : deadline.signal;
          return await this.#send("GetObject", this.#url(key), { method: "GET", headers }, undefined, { notFound: true, accept: [416], signal });
        } finally {
          clearTimeout(timer);
        }
      },
      caller,
    );
    if (response === null) return null;
    if (response.status === 416) {
      await response.body?.cancel();
      return this.#emptyBody(key);
    }
    const total = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1] ?? response.headers.get("content-length");
    return { key, size: Number(total ?? 0), body: response.body ?? emptyStream() };
  }

  async #emptyBody(key: string): Promise<ObjectBody | null> {
    const head = await this.head(key);
    return head ? { ...head, body: emptyStream() } : null;
  }

  async head(key: string): Promise<ObjectHead | null> {
    const response = await this.#retrying("HeadObject", () =>
      this.#send("HeadObject", this.#url(key), { method: "HEAD" }, this.#timeouts.requestMs, { notFound: true }),
    );
    return response ? { key, size: Number(response.headers.get("content-length") ?? 0) } : null;
  }

  async delete(key: string): Promise<void> {
    const response = await this.#retrying("DeleteObject", () =>
      this.#send("DeleteObject", this.#url(key), { method: "DELETE" }, this.#timeouts.requestMs, { notFound: true }),
    );
    await response?.body?.cancel();
  }

  /** HeadBucket: proves the bucket exists and the keys may use it, with no body either way. */
  async ping(): Promise<void> {
    try {
      await this.#send("HeadBucket", this.#base, { method: "HEAD" }, this.#timeouts.requestMs);
    } catch (error) {
      // A HEAD answer has no body to name the code: for a bucket, 404 can only mean it is missing.
      if (error instanceof S3StorageError && error.s3.s3Code === "NotFound") {
        throw new StorageError(`S3 HeadBucket failed: bucket ${this.#settings.bucket} does not exist`, false, { code: "missing-bucket" });
      }
      throw error;
    }
  }

  async #payloadHash(bytes: Uint8Array): Promise<Record<string, string>> {
    // aws4fetch sends UNSIGNED-PAYLOAD for S3 unless told the hash.
    return this.#settings.signPayload ? { "x-amz-content-sha256": await sha256Hex(bytes) } : {};
  }

  #encryptionHeaders(): Record<string, string> {
    const encryption = this.#settings.encryption;
    return encryption.mode === "aws:kms"
      ? { "x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": encryption.kmsKeyId }
      : { "x-amz-server-side-encryption": "AES256" };
  }

  #url(key: string, query?: string): string {
    const path = key.split("/").map(encodeRfc3986).join("/");
    return `${this.#base}/${path}${query ? `?${query}` : ""}`;
  }

  /** `abort`: the caller's deadline; once it has passed, trying again cannot help. */
  #retrying<T>(operation: string, call: () => Promise<T>, abort?: AbortSignal): Promise<T> {
    const spendRetry = this.#runtime.spendRetry;
    return retryWithBackoff(call, {
      attempts: ATTEMPTS,
      backoff: INLINE_BACKOFF,
      retryable: (error) => error instanceof StorageError && error.retryable && abort?.aborted !== true,
      ...(spendRetry
        ? { mayRetry: (error: unknown) => spendRetry(error instanceof StorageError && error.code === "timeout" ? "timeout" : "retry") }
        : {}),
      random: this.#runtime.random ?? Math.random,
      sleep: this.#runtime.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms))),
      onRetry: (error, attempt, delayMs) =>
        this.#log.warn({ msg: `s3 ${operation} retry`, attempt, delayMs, error: error instanceof Error ? error.message : String(error) }),
    });
  }

  /**
   * One signed call, logged as one line. Error answers become StorageErrors; with `notFound`
   * a 404 for a missing key resolves to null (a missing bucket still throws). `signal`
   * replaces the call's own time limit; `abort` (the caller's deadline) ends it as well.
   */
  #send(
    operation: string,
    url: string,
    init: RequestInit,
    timeoutMs: number | undefined,
    options: { notFound: true; accept?: number[]; signal?: AbortSignal },
  ): Promise<Response | null>;
  #send(operation: string, url: string, init: RequestInit, timeoutMs: number | undefined, options?: { abort?: AbortSignal | undefined }): Promise<Response>;
  #send(
    operation: string,
    url: string,
    init: RequestInit,
    timeoutMs: number | undefined,
    options: { notFound?: boolean; accept?: number[]; signal?: AbortSignal; abort?: AbortSignal | undefined } = {},
  ): Promise<Response | null> {
    return logDependencyCall(this.#log, "storage", `s3 ${operation}`, async () => {
      const own = options.signal ?? (timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs));
      const signal = options.abort && own ? AbortSignal.any([options.abort, own]) : (options.abort ?? own);
      let response: Response;
      try {
        response = await this.#client.fetch(url, { ...init, signal });
      } catch (error) {
        throw s3TransportError(operation, error);
      }
      if (response.ok || options.accept?.includes(response.status)) return response;
      const text = await response.text().catch(() => "");
      if (response.status === 404 && options.notFound && parseS3Error(404, text).s3Code !== "NoSuchBucket") return null;
      throw s3ResponseError(operation, response.status, text);
    });
  }
}

/** Path-style (`endpoint/bucket`) for custom endpoints or when forced, else virtual-hosted AWS. */
export function bucketUrl(settings: Pick<S3Settings, "bucket" | "endpoint" | "forcePathStyle" | "region">): string {
  if (settings.endpoint) return `${settings.endpoint.replace(/\/+$/, "")}/${settings.bucket}`;
  return settings.forcePathStyle
    ? `https://s3.${settings.region}.amazonaws.com/${settings.bucket}`
    : `https://${settings.bucket}.s3.${settings.region}.amazonaws.com`;
}

/** RFC 3986 unreserved characters only, as SigV4's canonical URI expects. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function contentTypeHeader(contentType: string | undefined): Record<string, string> {
  return contentType ? { "content-type": contentType } : {};
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return toHex(digest);
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
}
