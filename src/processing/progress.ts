/** How far processing is, as a job shows it. */
export interface ProcessingProgress {
  /** `reading`: the stream engine's one pass; `copying` then `parsing`: web-ifc's copy of the model, then its run. */
  phase: "reading" | "copying" | "parsing";
  bytesDone: number;
  bytesTotal: number;
}

export interface ProgressPolicy {
  /** Record again once this share of the model more is done (0.05: every 5 %). */
  fraction: number;
  /** ... or once this long has passed since the last record, whatever the share. */
  intervalMs: number;
}

/** Well inside "at least every 10 % or 2 s". */
export const DEFAULT_PROGRESS_POLICY: ProgressPolicy = { fraction: 0.05, intervalMs: 1000 };

/**
 * Thins a stream of progress callbacks (one per block read) down to the updates worth
 * recording: the first, every `fraction` of the model, every `intervalMs`, and the last.
 */
export function progressRecorder(
  phase: ProcessingProgress["phase"],
  record: (progress: ProcessingProgress) => void,
  now: () => number = Date.now,
  policy: ProgressPolicy = DEFAULT_PROGRESS_POLICY,
): (bytesDone: number, bytesTotal: number) => void {
  let lastBytes = -1;
  let lastAt = 0;
  return (bytesDone, bytesTotal) => {
    const at = now();
    const step = Math.max(1, bytesTotal * policy.fraction);
    const due = lastBytes < 0 || bytesDone >= bytesTotal || bytesDone - lastBytes >= step || at - lastAt >= policy.intervalMs;
    if (!due || bytesDone === lastBytes) return;
    lastBytes = bytesDone;
    lastAt = at;
    record({ phase, bytesDone, bytesTotal });
  };
}
