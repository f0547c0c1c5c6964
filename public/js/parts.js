// Pure arithmetic of an upload session's parts: every part is partSize bytes but the last.

/**
 * @param {number} size @param {number} partSize @param {number} partNumber 1-based
 * @returns {{start: number, end: number}} byte range, end exclusive
 */
export function partRange(size, partSize, partNumber) {
  const start = (partNumber - 1) * partSize;
  return { start, end: Math.min(size, start + partSize) };
}

/**
 * Parts still to send: those the session does not list with their full size. A listed part of
 * the wrong size (cut off mid-way) is sent again.
 * @param {{size: number, partSize: number, partCount: number}} session
 * @param {{partNumber: number, size: number, etag: string}[]} listed
 * @returns {{missing: number[], done: Map<number, string>, doneBytes: number}}
 */
export function planParts(session, listed) {
  /** @type {Map<number, string>} */
  const done = new Map();
  let doneBytes = 0;
  for (const part of listed) {
    const { start, end } = partRange(session.size, session.partSize, part.partNumber);
    if (part.partNumber < 1 || part.partNumber > session.partCount || part.size !== end - start || !part.etag) continue;
    if (!done.has(part.partNumber)) doneBytes += part.size;
    done.set(part.partNumber, part.etag);
  }
  const missing = [];
  for (let n = 1; n <= session.partCount; n += 1) if (!done.has(n)) missing.push(n);
  return { missing, done, doneBytes };
}

/** What `complete` takes: every part with its ETag, in order. @param {Map<number, string>} done */
export function completionList(done) {
  return [...done].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
}

/** Full-jitter backoff before retry `attempt` (1-based). @param {number} attempt @param {() => number} random */
export function backoffMs(attempt, random = Math.random) {
  return Math.floor(random() * Math.min(10_000, 500 * 2 ** attempt));
}

/** Statuses worth sending a part again for: lost connection, timeouts, throttling, server faults. @param {number} status */
export function isRetryable(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}
