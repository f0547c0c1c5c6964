/** Copies out the argument bytes of the statements a sink wants, across chunk boundaries. */
import type { ScanState } from "./step-scan-state";
import { MAX_CAPTURE_BYTES, type ScanContext, type TypeSlot } from "./step-sink";

export function startCapture(s: ScanState, at: number): void {
  s.capturing = true;
  s.captureStart = at;
  s.captureParts = [];
  s.captureBytes = 0;
  s.captureOverflow = false;
}

/** Keeps a piece of the statement being captured (copied: chunks are reused by callers). */
export function appendCapture<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, piece: Uint8Array): void {
  if (s.captureOverflow || piece.length === 0) return;
  s.captureBytes += piece.length;
  if (s.captureBytes > MAX_CAPTURE_BYTES) {
    s.captureOverflow = true;
    s.captureParts = [];
    t.warn("statement_too_large", `a statement above ${MAX_CAPTURE_BYTES / 1024 / 1024} MiB starting on line ${s.statementLine} was counted but not read`);
    return;
  }
  s.captureParts.push(piece.slice());
}


/** The captured pieces as one array. */
export function joinCapture(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
