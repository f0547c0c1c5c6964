/**
 * Stream fixtures for bodies and storage sources. Two kinds matter: a JavaScript stream of
 * chunks (unknown length, read chunk by chunk, as a multipart file arrives) and a runtime
 * byte stream (read with BYOB, as a request body is).
 */

/** A JavaScript stream of exactly these chunks, then closed. */
export function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** `bytes` in chunks of `chunkSize`, produced only as the reader pulls. */
export function chunked(bytes: Uint8Array, chunkSize = 256 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(at, at + chunkSize));
      at += chunkSize;
    },
  });
}

/** A runtime byte stream of `bytes`, as a request body is. */
export function byteStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const body = new Response(bytes).body;
  if (body === null) throw new Error("a Response of bytes has a body");
  return body;
}

/**
 * A body that delivers the first `failAfter` bytes of `bytes` in chunks of `chunkSize` and then
 * errors with `reason`, as a client that goes away mid-upload.
 */
export function failingBody(bytes: Uint8Array, failAfter: number, reason: unknown, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= failAfter) {
        controller.error(reason);
        return;
      }
      const end = Math.min(at + chunkSize, failAfter, bytes.byteLength);
      controller.enqueue(bytes.slice(at, end));
      at = end;
      if (at >= bytes.byteLength) controller.close();
    },
  });
}

/** Ten bytes, then `reason`. */
export function failingStream(reason: unknown): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(10));
      controller.error(reason);
    },
  });
}

/** A body that counts how often anyone pulled from it (0: never read). */
export function watchedBody(bytes: Uint8Array): { body: ReadableStream<Uint8Array>; pulls: () => number } {
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls += 1;
        controller.enqueue(bytes);
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulls: () => pulls };
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function concatenate(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** `size` bytes of a repeating, seed-dependent pattern: any shift or lost chunk shows. */
export const pattern = (size: number, seed = 0): Uint8Array => new Uint8Array(size).map((_, i) => (i * 7 + seed) % 251);
