import { SourceStreamError } from "./parts";
import { StorageError, type MultipartSessions, type ObjectHead, type PartRef, type StoredPart } from "./object-storage";

interface PendingUpload {
  key: string;
  parts: Map<number, { bytes: Uint8Array; etag: string }>;
}

/** Multipart uploads of the memory store, with S3's rules: quoted MD5 ETags, checked on completion. */
export class MemoryMultipart implements MultipartSessions {
  readonly #uploads = new Map<string, PendingUpload>();

  constructor(private readonly store: (key: string, bytes: Uint8Array) => void) {}

  async create(key: string): Promise<string> {
    const uploadId = crypto.randomUUID();
    this.#uploads.set(uploadId, { key, parts: new Map() });
    return uploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, size: number): Promise<StoredPart> {
    const upload = this.#upload(key, uploadId);
    const bytes = new Uint8Array(size);
    let at = 0;
    try {
      for await (const chunk of body) {
        if (at + chunk.byteLength > size) throw new RangeError(`part ${partNumber} is longer than its ${size} bytes`);
        bytes.set(chunk, at);
        at += chunk.byteLength;
      }
    } catch (error) {
      throw error instanceof RangeError ? error : new SourceStreamError(error);
    }
    if (at !== size) throw new RangeError(`part ${partNumber} ended after ${at} of its ${size} bytes`);
    const digest = new Uint8Array(await crypto.subtle.digest("MD5", bytes));
    const etag = `"${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}"`;
    upload.parts.set(partNumber, { bytes, etag });
    return { partNumber, size, etag };
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    const upload = this.#upload(key, uploadId);
    return [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, part]) => ({ partNumber, size: part.bytes.byteLength, etag: part.etag }));
  }

  async complete(key: string, uploadId: string, parts: PartRef[]): Promise<ObjectHead> {
    const upload = this.#upload(key, uploadId);
    const chosen = parts.map((ref) => {
      const part = upload.parts.get(ref.partNumber);
      if (!part || part.etag !== ref.etag) {
        throw new StorageError(`part ${ref.partNumber} is missing or its ETag differs`, false, { code: "invalid-part" });
      }
      return part.bytes;
    });
    const size = chosen.reduce((sum, bytes) => sum + bytes.byteLength, 0);
    const joined = new Uint8Array(size);
    let at = 0;
    for (const bytes of chosen) {
      joined.set(bytes, at);
      at += bytes.byteLength;
    }
    this.store(key, joined);
    this.#uploads.delete(uploadId);
    return { key, size };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    if (this.#uploads.get(uploadId)?.key === key) this.#uploads.delete(uploadId);
  }

  /** Uploads neither completed nor aborted, for tests that check nothing is left behind. */
  pending(): string[] {
    return [...this.#uploads.keys()];
  }

  #upload(key: string, uploadId: string): PendingUpload {
    const upload = this.#uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new StorageError(`no multipart upload ${uploadId}`, false, { code: "no-such-upload" });
    return upload;
  }
}
