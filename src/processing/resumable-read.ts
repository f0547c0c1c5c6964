import { streamSource } from "../lib/byte-source";
import { type ModelStream, ProcessingError } from "./processor";

export interface ResumableReadOptions {
  /** Reads that may fail part-way and be resumed with a ranged read before the attempt gives up. */
  maxResumes: number;
  /** Told of every resume (for logs). */
  onResume?(offset: number, error: unknown): void;
}

/**
 * Bytes read per block. One block is reused for the whole model: chunk by chunk a body arrives
 * in small pieces, each a fresh buffer for the GC (see src/lib/byte-source.ts).
 */
const BLOCK_BYTES = 1024 * 1024;

/**
 * Yields the model's bytes front to back, exactly `model.size` of them, in one reused block:
 * a yielded view is valid until the consumer asks for the next one. A read that fails or
 * ends early is resumed from the last byte received with a new ranged read, up to
 * `maxResumes` times. Returning early (the caller stops) cancels the underlying read.
 */
export async function* readResumable(model: ModelStream, options: ResumableReadOptions): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let resumes = 0;
  let buffer: Uint8Array = new Uint8Array(BLOCK_BYTES);
  while (offset < model.size) {
    const source = streamSource(await model.open(offset));
    let failure: unknown = null;
    try {
      for (;;) {
        let end: number;
        try {
          const filled = await source.fill(buffer, 0, buffer.byteLength);
          buffer = filled.buffer;
          end = filled.end;
        } catch (error) {
          failure = error;
          // A BYOB read that failed keeps the block it was given: start the next with a new one.
          if (buffer.byteLength === 0) buffer = new Uint8Array(BLOCK_BYTES);
          break;
        }
        if (offset + end > model.size) {
          throw new ProcessingError("internal", `Storage returned more than the model's ${model.size} bytes; the job will be retried.`, true);
        }
        if (end > 0) {
          offset += end;
          yield buffer.subarray(0, end);
        }
        if (end < buffer.byteLength) break; // the read ended
      }
    } finally {
      source.cancel("read done").catch(() => undefined);
    }
    if (offset < model.size) {
      resumes++;
      if (resumes > options.maxResumes) {
        throw new ProcessingError("storage_unavailable", `Reading the model from storage failed ${resumes} times (last at byte ${offset}); the job will be retried.`, true, {
          cause: failure,
        });
      }
      options.onResume?.(offset, failure ?? new Error("the read ended early"));
    }
  }
}
