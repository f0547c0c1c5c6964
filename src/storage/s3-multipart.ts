import type { AwsClient } from "aws4fetch";
import { StorageError, type MultipartCallOptions, type MultipartSessions, type ObjectHead, type PartRef, type StoredPart } from "./object-storage";
import { SourceStreamError } from "./parts";
import { escapeXml, s3ResponseError, xmlText } from "./s3-errors";

/** What S3Storage lends its multipart sessions: signed calls with its retries, URLs and headers. */
export interface S3Transport {
  client: AwsClient;
  url(key: string, query?: string): string;
  encryptionHeaders(): Record<string, string>;
  /** One signed call; error answers become StorageErrors. */
  send(operation: string, url: string, init: RequestInit, kind: "request" | "transfer", abort: AbortSignal | undefined): Promise<Response>;
  /** The same call retried with backoff within the retry budget (only calls safe to repeat). */
  retrying<T>(operation: string, call: () => Promise<T>, abort: AbortSignal | undefined): Promise<T>;
}

/** ListParts answers at most 1000 parts per page. */
const LIST_PAGE = 1000;

/** Upload sessions on S3: the parts go straight from the client to the bucket through presigned URLs. */
export class S3Multipart implements MultipartSessions {
  constructor(private readonly s3: S3Transport) {}

  async create(key: string, options: MultipartCallOptions & { contentType?: string } = {}): Promise<string> {
    const headers = { ...this.s3.encryptionHeaders(), ...(options.contentType ? { "content-type": options.contentType } : {}) };
    // Not retried: a lost answer to a retried create would leave an upload nobody knows of.
    const response = await this.s3.send("CreateMultipartUpload", this.s3.url(key, "uploads="), { method: "POST", headers }, "request", options.signal);
    const uploadId = xmlText(await response.text(), "UploadId");
    if (!uploadId) throw new StorageError("S3 CreateMultipartUpload answered without an UploadId", false, { code: "rejected" });
    return uploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    size: number,
    options: MultipartCallOptions = {},
  ): Promise<StoredPart> {
    // A streamed body cannot be sent twice: no retry here, the client sends the part again.
    // Piped natively; when the pipe fails first, the source (the client) broke off.
    const sized = new FixedLengthStream(size);
    let sourceFailure: { error: unknown } | undefined;
    const piping = body.pipeTo(sized.writable).catch((error: unknown) => {
      sourceFailure ??= { error };
    });
    let response: Response;
    try {
      response = await this.s3.send("UploadPart", this.#partUrl(key, uploadId, partNumber), { method: "PUT", body: sized.readable }, "transfer", options.signal);
    } catch (error) {
      await Promise.race([piping, new Promise((done) => setTimeout(done, 100))]);
      if (sourceFailure) throw new SourceStreamError(sourceFailure.error);
      throw error;
    }
    await piping;
    const etag = response.headers.get("etag");
    if (!etag) throw new StorageError(`S3 UploadPart ${partNumber} answered without an ETag`, false, { code: "rejected" });
    return { partNumber, size, etag };
  }

  async listParts(key: string, uploadId: string, options: MultipartCallOptions = {}): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker = 0;
    for (;;) {
      const query = `max-parts=${LIST_PAGE}&part-number-marker=${marker}&uploadId=${encodeURIComponent(uploadId)}`;
      const text = await this.s3.retrying(
        "ListParts",
        async () => (await this.s3.send("ListParts", this.s3.url(key, query), { method: "GET" }, "request", options.signal)).text(),
        options.signal,
      );
      for (const block of text.match(/<Part>[\s\S]*?<\/Part>/g) ?? []) {
        parts.push({
          partNumber: Number(xmlText(block, "PartNumber")),
          size: Number(xmlText(block, "Size")),
          etag: xmlText(block, "ETag") ?? "",
        });
      }
      if (xmlText(text, "IsTruncated") !== "true") break;
      const next = Number(xmlText(text, "NextPartNumberMarker"));
      if (!Number.isInteger(next) || next <= marker) break;
      marker = next;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete(key: string, uploadId: string, parts: PartRef[], options: MultipartCallOptions = {}): Promise<ObjectHead> {
    const xml =
      "<CompleteMultipartUpload>" +
      parts.map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${escapeXml(part.etag)}</ETag></Part>`).join("") +
      "</CompleteMultipartUpload>";
    const body = new TextEncoder().encode(xml);
    const response = await this.s3.send(
      "CompleteMultipartUpload",
      this.s3.url(key, `uploadId=${encodeURIComponent(uploadId)}`),
      { method: "POST", headers: { "content-type": "application/xml", "x-amz-content-sha256": await sha256Hex(body) }, body },
      "transfer",
      options.signal,
    );
    // S3 may answer 200 and still report a failure in the body.
    const text = await response.text();
    if (text.includes("<Error>")) throw s3ResponseError("CompleteMultipartUpload", 200, text);
    const head = await this.s3.retrying(
      "HeadObject",
      () => this.s3.send("HeadObject", this.s3.url(key), { method: "HEAD" }, "request", options.signal),
      options.signal,
    );
    return { key, size: Number(head.headers.get("content-length") ?? 0) };
  }

  async abort(key: string, uploadId: string, options: MultipartCallOptions = {}): Promise<void> {
    try {
      const response = await this.s3.retrying(
        "AbortMultipartUpload",
        () => this.s3.send("AbortMultipartUpload", this.s3.url(key, `uploadId=${encodeURIComponent(uploadId)}`), { method: "DELETE" }, "request", options.signal),
        options.signal,
      );
      await response.body?.cancel();
    } catch (error) {
      if (error instanceof StorageError && error.code === "no-such-upload") return;
      throw error;
    }
  }

  /** aws4fetch query signing: the URL alone authorises one PUT of this part until it expires. */
  async presignPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    const url = new URL(this.#partUrl(key, uploadId, partNumber));
    url.searchParams.set("X-Amz-Expires", String(expiresInSeconds));
    const signed = await this.s3.client.sign(url.toString(), { method: "PUT", aws: { signQuery: true, allHeaders: false } });
    return signed.url;
  }

  #partUrl(key: string, uploadId: string, partNumber: number): string {
    return this.s3.url(key, `partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`);
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
