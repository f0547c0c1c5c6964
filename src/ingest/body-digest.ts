import { type ByteSource, streamSource } from "../lib/byte-source";
import { toHex } from "../lib/hex";
import type { MemoryLease } from "../storage/buffer-budget";
import { tooLarge } from "./inspect-stream";
import { uploadStalled } from "./upload-problems";

const BLOCK_BYTES = 256 * 1024;

/**
 * Reads a body to its end, only hashing it: the replay of an Idempotency-Key must know the
 * body's SHA-256 to compare it with the first request's, and must store nothing. The same
 * limits as an upload hold: MAX_UPLOAD_BYTES, the idle deadline, the isolate's buffer budget.
 */
export async function digestBody(
  body: ReadableStream<Uint8Array> | ByteSource,
  maxBytes: number,
  options: { idleTimeoutMs?: number; memory?: MemoryLease } = {},
): Promise<{ size: number; sha256: string }> {
  options.memory?.take(BLOCK_BYTES);
  const source =
    body instanceof ReadableStream
      ? streamSource(body, { idleTimeoutMs: options.idleTimeoutMs, onIdle: () => uploadStalled(options.idleTimeoutMs ?? 0) })
      : body;
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  digest.digest.catch(() => undefined);
  let buffer: Uint8Array = new Uint8Array(BLOCK_BYTES);
  let size = 0;
  try {
    for (;;) {
      const filled = await source.fill(buffer, 0, BLOCK_BYTES);
      size += filled.end;
      if (size > maxBytes) throw tooLarge(maxBytes);
      // Awaited before the buffer is filled again.
      if (filled.end > 0) await writer.write(filled.buffer.subarray(0, filled.end));
      buffer = filled.buffer;
      if (filled.end < BLOCK_BYTES) break;
    }
    await writer.close();
    return { size, sha256: toHex(new Uint8Array(await digest.digest)) };
  } catch (error) {
    await Promise.allSettled([source.cancel(error), writer.abort(error)]);
    throw error;
  }
}
