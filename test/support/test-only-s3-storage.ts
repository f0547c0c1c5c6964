import type { ByteRange, ObjectBody, ObjectHead, ObjectStorage, PutOptions } from "../../src/storage/object-storage";
import { StorageError } from "../../src/storage/object-storage";

/**
 * TEST ONLY. A minimal S3-API adapter (unsigned, path-style, single PUT) so the fault
 * injection suite can run the Worker against a real object store (s3rver) through the fault
 * proxy before the real src/storage/s3.ts lands. It buffers each object, which the real
 * adapter must not do; swap it for the real adapter once that is merged.
 */
export class TestOnlyS3Storage implements ObjectStorage {
  readonly driver = "s3";

  constructor(
    private readonly endpoint: string,
    private readonly bucket: string,
  ) {}

  #url(key: string, query = ""): string {
    return `${this.endpoint}/${this.bucket}/${key.split("/").map(encodeURIComponent).join("/")}${query}`;
  }

  async #fetch(operation: string, url: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw new StorageError(`S3 ${operation} failed`, true, { cause: error });
    }
    if (response.ok || response.status === 404) return response;
    await response.body?.cancel();
    // 4xx is our request's fault (do not trip the breaker); 5xx is the store's.
    throw new StorageError(`S3 ${operation} answered ${response.status}`, response.status >= 500);
  }

  async put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<ObjectHead> {
    // Reading the body first lets its own failures (rejected uploads) surface unchanged.
    const bytes = new Uint8Array(await new Response(body).arrayBuffer());
    const response = await this.#fetch("put", this.#url(key), {
      method: "PUT",
      body: bytes,
      headers: { "content-type": options.contentType ?? "application/octet-stream" },
      signal: options.signal,
    });
    try {
      await response.arrayBuffer();
    } catch (error) {
      throw new StorageError("S3 put answer was cut", true, { cause: error });
    }
    return { key, size: bytes.byteLength };
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.offset}-${range.length === undefined ? "" : range.offset + range.length - 1}`;
    const response = await this.#fetch("get", this.#url(key), { headers });
    if (response.status === 404 || !response.body) {
      await response.body?.cancel();
      return null;
    }
    return { key, size: Number(response.headers.get("content-length") ?? 0), body: response.body };
  }

  async head(key: string): Promise<ObjectHead | null> {
    const response = await this.#fetch("head", this.#url(key), { method: "HEAD" });
    return response.status === 404 ? null : { key, size: Number(response.headers.get("content-length") ?? 0) };
  }

  async delete(key: string): Promise<void> {
    const response = await this.#fetch("delete", this.#url(key), { method: "DELETE" });
    await response.body?.cancel();
  }

  async ping(): Promise<void> {
    const response = await this.#fetch("list", `${this.endpoint}/${this.bucket}?max-keys=1`, {});
    await response.body?.cancel();
  }
}
