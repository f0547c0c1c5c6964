import { ProblemError } from "../lib/problem";
import type { MultipartSessions, StoredPart } from "../storage/object-storage";
import type { UploadSession } from "./session-record";
import { expectedPartSize } from "./session-rules";
import { badPart } from "./problems";
import { type GuardedCall, storageFault } from "./storage-calls";

/** Checks a part number against the session: 400 for one beyond its part count. */
export function partInRange(session: UploadSession, partNumber: number): number {
  if (partNumber > session.partCount) {
    throw badPart(`Part ${partNumber} is out of range: this session has parts 1 to ${session.partCount}.`, { partCount: session.partCount });
  }
  return expectedPartSize(partNumber, session.size, session);
}

/**
 * Streams one part from the request into the store. The length is checked before a byte is
 * read; a body that breaks off is the client's failure, never the store's.
 */
export async function uploadPart(
  multipart: MultipartSessions,
  guarded: GuardedCall,
  session: UploadSession,
  partNumber: number,
  body: ReadableStream<Uint8Array> | null,
  contentLength: number | undefined,
): Promise<StoredPart> {
  const expected = partInRange(session, partNumber);
  if (contentLength === undefined) {
    await body?.cancel().catch(() => undefined);
    throw new ProblemError({ status: 411, slug: "length-required", title: "Length Required", detail: "Send the part with its Content-Length." });
  }
  if (contentLength !== expected) {
    await body?.cancel().catch(() => undefined);
    const which = partNumber < session.partCount ? `every part but the last is exactly ${session.partSize} bytes` : `the last part is the remaining ${expected} bytes`;
    throw badPart(`Part ${partNumber} has ${contentLength} bytes; ${which}.`, { expectedSize: expected });
  }
  let broken: unknown;
  const empty = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const counted = observe(body ?? empty, (error) => {
    broken ??= error;
  });
  try {
    return await guarded(
      "store the part",
      (signal) => multipart.uploadPart(session.objectKey, session.storageUploadId, partNumber, counted, expected, { signal }),
      (error) => (broken === undefined ? storageFault(error) : "client-error"),
    );
  } catch (error) {
    if (broken !== undefined || error instanceof TypeError || error instanceof RangeError) {
      throw new ProblemError({
        status: 400,
        slug: "upload-interrupted",
        title: "Upload Interrupted",
        detail: `The body of part ${partNumber} ended before its ${expected} bytes; send the part again.`,
      });
    }
    throw error;
  }
}

/** The same stream, telling `onError` when reading the source fails (the client went away). */
function observe(stream: ReadableStream<Uint8Array>, onError: (error: unknown) => void): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        onError(error);
        controller.error(error);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
