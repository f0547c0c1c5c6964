import { ProblemError } from "../http/problem";

/**
 * Streams one file field out of a multipart/form-data body without buffering it:
 * `formData()` and the multipart-parser package both hold a whole part in memory.
 */
export interface MultipartFile {
  filename: string | undefined;
  contentType: string | undefined;
  body: ReadableStream<Uint8Array>;
}

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_SKIPPED_PART_BYTES = 1024 * 1024;
const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);
const encoder = new TextEncoder();

const badMultipart = (detail: string): ProblemError =>
  new ProblemError({ status: 400, slug: "invalid-multipart", title: "Invalid Multipart Body", detail });

export function multipartBoundary(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw badMultipart("multipart/form-data needs a boundary parameter.");
  return boundary;
}

/** Finds the part named `field` and returns its content as a stream; other parts are skipped. */
export async function openMultipartFile(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  field: string,
): Promise<MultipartFile> {
  const scanner = new BoundaryScanner(body, boundary);
  for (;;) {
    const headers = await scanner.nextPart();
    if (headers === null) throw badMultipart(`The form has no field named "${field}".`);
    const disposition = parseDisposition(headers["content-disposition"] ?? "");
    if (disposition.name !== field) {
      await scanner.skipPart(MAX_SKIPPED_PART_BYTES);
      continue;
    }
    return {
      filename: disposition.filename,
      contentType: headers["content-type"],
      body: scanner.partStream(),
    };
  }
}

class BoundaryScanner {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** "\r\n--boundary": the body is read as if it started with CRLF so the first one matches too. */
  readonly #delimiter: Uint8Array;
  #buffer: Uint8Array = new Uint8Array([13, 10]);
  #ended = false;
  #finished = false;

  constructor(body: ReadableStream<Uint8Array>, boundary: string) {
    this.#reader = body.getReader();
    this.#delimiter = encoder.encode(`\r\n--${boundary}`);
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const next = await this.#reader.read();
    if (next.done) {
      this.#ended = true;
      return false;
    }
    this.#buffer = joinBytes(this.#buffer, next.value);
    return true;
  }

  /** Moves past the next delimiter; returns the part's headers, or null at the closing one. */
  async nextPart(): Promise<Record<string, string> | null> {
    if (this.#finished) return null;
    for (;;) {
      const at = indexOf(this.#buffer, this.#delimiter, 0);
      if (at >= 0) {
        this.#buffer = this.#buffer.subarray(at + this.#delimiter.byteLength);
        break;
      }
      this.#buffer = this.#buffer.subarray(Math.max(0, this.#buffer.byteLength - this.#delimiter.byteLength));
      if (!(await this.#fill())) throw badMultipart("The body ends before the first boundary.");
    }
    while (this.#buffer.byteLength < 2) {
      if (!(await this.#fill())) throw badMultipart("The body ends inside a boundary.");
    }
    if (this.#buffer[0] === 45 && this.#buffer[1] === 45) {
      this.#finished = true;
      return null;
    }
    for (;;) {
      const end = indexOf(this.#buffer, CRLF_CRLF, 0);
      if (end >= 0) {
        const raw = new TextDecoder().decode(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(end + 4);
        return parseHeaders(raw);
      }
      if (this.#buffer.byteLength > MAX_HEADER_BYTES) throw badMultipart("A part's headers are too large.");
      if (!(await this.#fill())) throw badMultipart("The body ends inside a part's headers.");
    }
  }

  /**
   * Yields the current part's content up to the next delimiter. Holds back at most
   * delimiter-length bytes, so memory stays bounded by one input chunk.
   */
  async #readContent(): Promise<Uint8Array> {
    for (;;) {
      const at = indexOf(this.#buffer, this.#delimiter, 0);
      if (at >= 0) {
        const content = this.#buffer.subarray(0, at);
        this.#buffer = this.#buffer.subarray(at);
        this.#partDone = true;
        return content;
      }
      const safe = this.#buffer.byteLength - (this.#delimiter.byteLength - 1);
      if (safe > 0) {
        const content = this.#buffer.subarray(0, safe);
        this.#buffer = this.#buffer.subarray(safe);
        return content;
      }
      if (!(await this.#fill())) throw badMultipart("The body ends inside a part; the closing boundary is missing.");
    }
  }

  #partDone = false;

  async skipPart(limit: number): Promise<void> {
    this.#partDone = false;
    let skipped = 0;
    while (!this.#partDone) {
      const content = await this.#readContent();
      skipped += content.byteLength;
      if (skipped > limit) throw badMultipart("A form field before the file is too large.");
    }
  }

  partStream(): ReadableStream<Uint8Array> {
    this.#partDone = false;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          // A pull must enqueue or close, or the stream stalls: skip empty reads.
          while (!this.#partDone) {
            const content = await this.#readContent();
            if (content.byteLength > 0) {
              // Copy: the buffer is a view that later joins would otherwise keep alive.
              controller.enqueue(content.slice());
              return;
            }
          }
          await this.#drain();
          controller.close();
        },
        cancel: async (reason) => {
          await this.#reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Reads the rest of the body so the request completes; later parts are ignored. */
  async #drain(): Promise<void> {
    this.#buffer = new Uint8Array(0);
    while (await this.#fill()) this.#buffer = new Uint8Array(0);
    this.#reader.releaseLock();
  }
}

function parseHeaders(raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of raw.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseDisposition(value: string): { name?: string; filename?: string } {
  const result: { name?: string; filename?: string } = {};
  const params = /;\s*([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const match of value.matchAll(params)) {
    const key = (match[1] ?? "").toLowerCase();
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : (match[3] ?? "");
    if (key === "name") result.name = raw;
    else if (key === "filename" && result.filename === undefined) result.filename = raw;
    else if (key === "filename*") result.filename = decodeExtValue(raw) ?? result.filename;
  }
  return result;
}

/** RFC 8187 `UTF-8''name%20here`. */
function decodeExtValue(value: string): string | undefined {
  const match = /^UTF-8'[^']*'(.*)$/i.exec(value);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

function joinBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0] ?? 0;
  const last = haystack.byteLength - needle.byteLength;
  for (let at = haystack.indexOf(first, from); at >= 0 && at <= last; at = haystack.indexOf(first, at + 1)) {
    let match = true;
    for (let i = 1; i < needle.byteLength; i++) {
      if (haystack[at + i] !== needle[i]) {
        match = false;
        break;
      }
    }
    if (match) return at;
  }
  return -1;
}
