import { SourceStreamError } from "./parts";
import { StorageError, type MultipartCallOptions, type MultipartSessions, type ObjectHead, type PartRef, type StoredPart } from "./object-storage";

/**
 * Upload sessions on the R2 binding. R2 cannot list the parts of an upload, so listParts
 * answers null and callers keep the parts R2 confirmed; R2 checks the ETags on completion.
 */
export class R2Multipart implements MultipartSessions {
  constructor(private readonly bucket: R2Bucket) {}

  async create(key: string, options: MultipartCallOptions & { contentType?: string } = {}): Promise<string> {
    const httpMetadata = options.contentType ? { contentType: options.contentType } : undefined;
    const upload = await r2Call("createMultipartUpload", () => this.bucket.createMultipartUpload(key, { httpMetadata }));
    return upload.uploadId;
  }

  /** The request body is piped natively into R2, with its length fixed; nothing is buffered here. */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, size: number): Promise<StoredPart> {
    const sized = new FixedLengthStream(size);
    let sourceFailure: { error: unknown } | undefined;
    const piping = body.pipeTo(sized.writable).catch((error: unknown) => {
      sourceFailure ??= { error };
    });
    try {
      const part = await r2Call("uploadPart", () => this.bucket.resumeMultipartUpload(key, uploadId).uploadPart(partNumber, sized.readable));
      await piping;
      return { partNumber: part.partNumber, size, etag: part.etag };
    } catch (error) {
      await Promise.race([piping, new Promise((done) => setTimeout(done, 100))]);
      if (sourceFailure) throw new SourceStreamError(sourceFailure.error);
      throw error;
    }
  }

  async listParts(): Promise<null> {
    return null;
  }

  async complete(key: string, uploadId: string, parts: PartRef[]): Promise<ObjectHead> {
    const object = await r2Call("completeMultipartUpload", () =>
      this.bucket.resumeMultipartUpload(key, uploadId).complete(parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag }))),
    );
    return { key, size: object.size };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      await r2Call("abortMultipartUpload", () => this.bucket.resumeMultipartUpload(key, uploadId).abort());
    } catch (error) {
      if (error instanceof StorageError && error.code === "no-such-upload") return;
      throw error;
    }
  }
}

/** R2's numbered errors (`... (10024)`) in the domain's words. */
async function r2Call<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const code = /\((\d{5})\)/.exec(message)?.[1];
    if (code === "10024") throw new StorageError(`R2 ${operation}: no such multipart upload`, false, { code: "no-such-upload", cause: error });
    if (code === "10025" || code === "10011") throw new StorageError(`R2 ${operation}: a part is missing, too small or has another ETag`, false, { code: "invalid-part", cause: error });
    // A body that broke off or had the wrong length is the client's, not R2's.
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    throw new StorageError(`R2 ${operation} failed`, true, { cause: error });
  }
}
