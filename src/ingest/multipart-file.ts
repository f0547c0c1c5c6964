/**
 * The multipart scanner: longer than our files usually are because the preamble, part headers,
 * other fields and the file share one reused scan buffer and one set of totals and deadlines.
 */
import { ProblemError } from "../lib/problem";
import { type ByteSource, streamSource } from "../lib/byte-source";
import type { MemoryLease } from "../storage/buffer-budget";

/**
 * Streams one file field out of a multipart/form-data body without buffering it:
 * `formData()` and the multipart-parser package both hold a whole part in memory.
 */
export interface MultipartFile {
  filename: string | undefined;
  contentType: string | undefined;
  body: ByteSource;
}

/** The body is scanned in blocks of this size, read into one buffer reused for the whole upload. */
export const SCAN_BLOCK_BYTES = 1024 * 1024;
/** Big enough for the largest part header and a delimiter; for bodies that fit in one part. */
export const SMALL_SCAN_BLOCK_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
/**
 * Everything that is not the file (preamble, other fields, part headers, what follows the
 * file) counts against one total: nobody gets to stream megabytes past the limits in pieces.
 */
export const MAX_NON_FILE_BYTES = 1024 * 1024;
export const MAX_PARTS = 100;

export interface MultipartOptions {
  /** Size of the scan buffer (at least SMALL_SCAN_BLOCK_BYTES); SCAN_BLOCK_BYTES by default. */
  bufferBytes?: number;
  /** The scan buffer is counted here (the isolate's upload budget). */
  memory?: MemoryLease;
}
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

/** Finds the part named `field` and returns its content as a ByteSource; other parts are skipped. */
export async function openMultipartFile(
  body: ReadableStream<Uint8Array> | ByteSource,
  boundary: string,
  field: string,
  options: MultipartOptions = {},
): Promise<MultipartFile> {
  const bufferBytes = Math.max(options.bufferBytes ?? SCAN_BLOCK_BYTES, SMALL_SCAN_BLOCK_BYTES);
  options.memory?.take(bufferBytes);
  const scanner = new BoundaryScanner(body instanceof ReadableStream ? streamSource(body) : body, boundary, bufferBytes);
  for (;;) {
    const headers = await scanner.nextPart();
    if (headers === null) throw badMultipart(`The form has no field named "${field}".`);
    const disposition = parseDisposition(headers["content-disposition"] ?? "");
    if (disposition.name !== field) {
      await scanner.skipPart();
      continue;
    }
    return {
      filename: disposition.filename,
      contentType: headers["content-type"],
      body: scanner.partSource(),
    };
  }
}

class BoundaryScanner {
  readonly #source: ByteSource;
  /** "\r\n--boundary": the body is read as if it started with CRLF so the first one matches too. */
  readonly #delimiter: Uint8Array;
  /** The bytes read and not yet consumed are #buffer[#start, #end). */
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  /** #buffer[#start, #clean) is known to hold no delimiter, so it is not searched again. */
  #clean = 0;
  #ended = false;
  #finished = false;
  #partDone = false;
  #nonFileBytes = 0;
  #parts = 0;

  constructor(source: ByteSource, boundary: string, bufferBytes: number) {
    this.#source = source;
    this.#buffer = new Uint8Array(bufferBytes);
    this.#delimiter = encoder.encode(`\r\n--${boundary}`);
    this.#buffer.set([13, 10]);
    this.#end = 2;
  }

  #unread(): Uint8Array {
    return this.#buffer.subarray(this.#start, this.#end);
  }

  /** Moves the unconsumed bytes to the front and reads behind them; false once nothing more came. */
  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const kept = this.#end - this.#start;
    this.#buffer.copyWithin(0, this.#start, this.#end);
    this.#clean -= this.#start;
    this.#start = 0;
    const filled = await this.#source.fill(this.#buffer, kept, this.#buffer.byteLength - kept);
    this.#buffer = filled.buffer;
    this.#end = filled.end;
    if (filled.end < filled.buffer.byteLength) this.#ended = true;
    return filled.end > kept;
  }

  /** Counts bytes that are not the file against the body's one allowance. */
  #spend(bytes: number): void {
    this.#nonFileBytes += bytes;
    if (this.#nonFileBytes > MAX_NON_FILE_BYTES) {
      throw badMultipart(`The form holds more than ${MAX_NON_FILE_BYTES} bytes besides the file.`);
    }
  }

  /** Moves past the next delimiter; returns the part's headers, or null at the closing one. */
  async nextPart(): Promise<Record<string, string> | null> {
    if (this.#finished) return null;
    for (;;) {
      const at = indexOf(this.#unread(), this.#delimiter);
      if (at >= 0) {
        this.#spend(at);
        this.#start += at + this.#delimiter.byteLength;
        break;
      }
      const next = Math.max(this.#start, this.#end - this.#delimiter.byteLength);
      this.#spend(next - this.#start);
      this.#start = next;
      if (!(await this.#fill())) throw badMultipart("The body ends before the first boundary.");
    }
    this.#clean = this.#start;
    while (this.#end - this.#start < 2) {
      if (!(await this.#fill())) throw badMultipart("The body ends inside a boundary.");
    }
    if (this.#buffer[this.#start] === 45 && this.#buffer[this.#start + 1] === 45) {
      this.#finished = true;
      return null;
    }
    if (++this.#parts > MAX_PARTS) throw badMultipart(`The form has more than ${MAX_PARTS} parts.`);
    for (;;) {
      const unread = this.#unread();
      const end = indexOf(unread, CRLF_CRLF);
      if (end > MAX_HEADER_BYTES) throw badMultipart("A part's headers are too large.");
      if (end >= 0) {
        this.#spend(end + 4);
        const raw = new TextDecoder().decode(unread.subarray(0, end));
        this.#start += end + 4;
        this.#clean = this.#start;
        return parseHeaders(raw);
      }
      if (unread.byteLength > MAX_HEADER_BYTES) throw badMultipart("A part's headers are too large.");
      if (!(await this.#fill())) throw badMultipart("The body ends inside a part's headers.");
    }
  }

  /**
   * Consumes up to `max` bytes of the current part's content, up to the next delimiter. The
   * view is valid until the next call. Holds back at most delimiter-length bytes.
   */
  async #readContent(max: number): Promise<Uint8Array> {
    for (;;) {
      if (this.#clean <= this.#start) {
        const at = indexOf(this.#unread(), this.#delimiter);
        if (at >= 0) {
          this.#clean = this.#start + at;
          // An empty view with #partDone set: the delimiter is next.
          if (at === 0) this.#partDone = true;
        } else {
          this.#clean = Math.max(this.#start, this.#end - (this.#delimiter.byteLength - 1));
        }
      }
      if (this.#partDone || this.#clean > this.#start) {
        const take = Math.min(this.#clean - this.#start, max);
        const content = this.#buffer.subarray(this.#start, this.#start + take);
        this.#start += take;
        return content;
      }
      if (!(await this.#fill())) throw badMultipart("The body ends inside a part; the closing boundary is missing.");
    }
  }

  async skipPart(): Promise<void> {
    this.#partDone = false;
    while (!this.#partDone) this.#spend((await this.#readContent(Number.POSITIVE_INFINITY)).byteLength);
  }

  /** The current part's content, copied into the reader's buffers. */
  partSource(): ByteSource {
    this.#partDone = false;
    let drained = false;
    return {
      fill: async (buffer, from, min) => {
        let end = from;
        while (!this.#partDone && end - from < min && end < buffer.byteLength) {
          const content = await this.#readContent(buffer.byteLength - end);
          buffer.set(content, end);
          end += content.byteLength;
        }
        if (this.#partDone && !drained) {
          drained = true;
          await this.#drain();
        }
        return { buffer, end };
      },
      cancel: (reason) => this.#source.cancel(reason),
    };
  }

  /**
   * Reads the rest of the body so the request completes; later parts are ignored. Bounded as
   * the fields before the file are: nobody gets to stream gigabytes past an accepted file.
   */
  async #drain(): Promise<void> {
    do {
      this.#spend(this.#end - this.#start);
      this.#start = this.#end;
    } while (await this.#fill());
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

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0] ?? 0;
  const last = haystack.byteLength - needle.byteLength;
  for (let at = haystack.indexOf(first); at >= 0 && at <= last; at = haystack.indexOf(first, at + 1)) {
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
