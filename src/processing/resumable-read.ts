import { type ModelStream, ProcessingError } from "./processor";

export interface ResumableReadOptions {
  /** Reads that may fail part-way and be resumed with a ranged read before the attempt gives up. */
  maxResumes: number;
  /** Told of every resume (for logs). */
  onResume?(offset: number, error: unknown): void;
}

/** Below this, chunks are gathered into one block: per-chunk work (hash writes, progress) has a fixed cost. */
const MIN_BLOCK_BYTES = 256 * 1024;

/**
 * Yields the model's bytes front to back, exactly `model.size` of them. A read that fails
 * or ends early is resumed from the last byte received with a new ranged read, up to
 * `maxResumes` times. Returning early (the caller stops) cancels the underlying read.
 */
export async function* readResumable(model: ModelStream, options: ResumableReadOptions): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let resumes = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = (): Uint8Array => {
    const block = pending.length === 1 && pending[0] ? pending[0] : join(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return block;
  };
  while (offset + pendingBytes < model.size) {
    const from = offset + pendingBytes;
    const reader = (await model.open(from)).getReader();
    let failure: unknown = null;
    try {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          failure = error;
          break;
        }
        if (result.done) break;
        const chunk = result.value;
        if (offset + pendingBytes + chunk.byteLength > model.size) {
          throw new ProcessingError("internal", `Storage returned more than the model's ${model.size} bytes; the job will be retried.`, true);
        }
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= MIN_BLOCK_BYTES) {
          offset += pendingBytes;
          yield flush();
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
    if (offset + pendingBytes < model.size) {
      resumes++;
      const at = offset + pendingBytes;
      if (resumes > options.maxResumes) {
        throw new ProcessingError("storage_unavailable", `Reading the model from storage failed ${resumes} times (last at byte ${at}); the job will be retried.`, true, {
          cause: failure,
        });
      }
      options.onResume?.(at, failure ?? new Error("the read ended early"));
    }
  }
  if (pendingBytes > 0) {
    offset += pendingBytes;
    yield flush();
  }
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
