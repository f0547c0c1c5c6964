import { ProblemError } from "../lib/problem";
import type { MultipartSessions, StoredPart } from "../storage/object-storage";
import type { UploadSession } from "./session-record";
import { expectedPartSize } from "./session-rules";
import { badPart } from "./problems";
import { SourceStreamError } from "../storage/parts";
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
  // The request body goes to the adapter as it is: a native stream it can read in large blocks.
  // A failure of the body itself comes back as a SourceStreamError: the client's, not storage's.
  const source = body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  try {
    return await guarded(
      "store the part",
      (signal) => multipart.uploadPart(session.objectKey, session.storageUploadId, partNumber, source, expected, { signal }),
      (error) => (error instanceof SourceStreamError ? "client-error" : storageFault(error)),
    );
  } catch (error) {
    if (error instanceof SourceStreamError || error instanceof RangeError) {
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
