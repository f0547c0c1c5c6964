/**
 * The hot loop of the STEP scanner: the bytes between an entity's type name and its closing
 * ';'. Nearly all of a model's bytes pass through here, so it works on the Uint8Array with a
 * byte-class table and plain loops, builds no strings and calls the sink only per reference
 * and per statement.
 */
import { M_ARGS, M_BETWEEN, M_BINARY, M_REF, M_SLASH, M_STRING, M_STRING_QUOTE, type ScanState } from "./step-scan-state";
import { appendCapture, joinCapture } from "./step-capture";
import type { ScanContext, TypeSlot } from "./step-sink";

const QUOTE = 0x27;
const LF = 0x0a;
const DOUBLE_QUOTE = 0x22;

const K_PLAIN = 0;
const K_QUOTE = 1;
const K_OPEN = 2;
const K_CLOSE = 3;
const K_END = 4;
const K_HASH = 5;
const K_SLASH = 6;
const K_LF = 7;
const K_BINARY = 8;
const K_CONTROL = 9;

const CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) CLASS[c] = K_CONTROL;
CLASS[0x09] = K_PLAIN;
CLASS[0x0d] = K_PLAIN;
CLASS[LF] = K_LF;
CLASS[QUOTE] = K_QUOTE;
CLASS[0x28] = K_OPEN;
CLASS[0x29] = K_CLOSE;
CLASS[0x3b] = K_END;
CLASS[0x23] = K_HASH;
CLASS[0x2f] = K_SLASH;
CLASS[DOUBLE_QUOTE] = K_BINARY;

/** Scans from `start` in one of the argument modes; returns where the statement level resumes. */
export function scanArgs<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array, start: number): number {
  const n = chunk.length;
  let i = start;
  let line = s.line;
  let depth = s.depth;
  // Finish a token cut by the previous chunk boundary.
  if (s.mode === M_REF) {
    let ref = s.ref;
    const from = i;
    while (i < n) {
      const d = (chunk[i] ?? 0) - 0x30;
      if (d < 0 || d > 9) break;
      ref = ref * 10 + d;
      i++;
    }
    s.refDigits += i - from;
    if (tooBig(t, s, ref)) return n;
    if (i === n) {
      s.ref = ref;
      return n;
    }
    if (s.refDigits > 0) t.sink.reference(small(ref));
    s.mode = M_ARGS;
  } else if (s.mode === M_STRING_QUOTE) {
    if (chunk[i] === QUOTE) {
      i++;
      s.mode = M_STRING;
    } else {
      s.mode = M_ARGS;
    }
  }
  if (s.mode === M_STRING) {
    const end = scanString(chunk, i, s);
    line = s.line;
    if (end < 0) return n;
    i = end;
    s.mode = M_ARGS;
  } else if (s.mode === M_BINARY) {
    const end = chunk.indexOf(DOUBLE_QUOTE, i);
    if (end < 0) return n;
    i = end + 1;
    s.mode = M_ARGS;
  }

  while (i < n) {
    const k = CLASS[chunk[i] as number] as number;
    if (k === K_PLAIN) {
      i++;
      continue;
    }
    switch (k) {
      case K_OPEN:
        depth++;
        i++;
        continue;
      case K_CLOSE:
        depth--;
        i++;
        if (depth < 0) {
          s.line = line;
          t.fail("unbalanced_parentheses", `a ')' without its '(' in the statement starting on line ${s.statementLine}`);
          return n;
        }
        continue;
      case K_HASH: {
        let ref = 0;
        let j = i + 1;
        while (j < n) {
          const d = (chunk[j] ?? 0) - 0x30;
          if (d < 0 || d > 9) break;
          ref = ref * 10 + d;
          j++;
        }
        if (j === n) {
          if (tooBig(t, s, ref)) return n;
          s.ref = ref;
          s.refDigits = j - i - 1;
          s.mode = M_REF;
          s.line = line;
          s.depth = depth;
          return n;
        }
        if (j > i + 1) {
          if (tooBig(t, s, ref)) return n;
          t.sink.reference(small(ref));
        }
        i = j;
        continue;
      }
      case K_QUOTE: {
        s.line = line;
        s.openedLine = line;
        const end = scanString(chunk, i + 1, s);
        line = s.line;
        if (end < 0) {
          s.depth = depth;
          return n;
        }
        i = end;
        continue;
      }
      case K_LF:
        line++;
        i++;
        continue;
      case K_END:
        s.line = line;
        s.depth = depth;
        finishStatement(t, s, chunk, i);
        return i + 1;
      case K_SLASH:
        s.line = line;
        s.depth = depth;
        s.resume = M_ARGS;
        s.mode = M_SLASH;
        return i + 1;
      case K_BINARY: {
        s.openedLine = line;
        const end = chunk.indexOf(DOUBLE_QUOTE, i + 1);
        if (end < 0) {
          s.mode = M_BINARY;
          s.line = line;
          s.depth = depth;
          return n;
        }
        i = end + 1;
        continue;
      }
      default:
        s.line = line;
        t.fail("control_character", `control byte 0x${(chunk[i] ?? 0).toString(16).padStart(2, "0")} outside a string`);
        return n;
    }
  }
  s.line = line;
  s.depth = depth;
  return n;
}

/**
 * Scans string contents from `i` (just after an opening quote or inside a string): answers
 * the index after the closing quote, or -1 when the chunk ends first (mode says where).
 * A doubled quote is an escaped quote.
 */
function scanString(chunk: Uint8Array, from: number, s: ScanState): number {
  const n = chunk.length;
  let i = from;
  let line = s.line;
  for (;;) {
    while (i < n) {
      const c = chunk[i] ?? 0;
      if (c === QUOTE) break;
      if (c === LF) line++;
      i++;
    }
    s.line = line;
    if (i >= n) {
      s.mode = M_STRING;
      return -1;
    }
    if (i + 1 >= n) {
      s.mode = M_STRING_QUOTE;
      return -1;
    }
    if (chunk[i + 1] !== QUOTE) return i + 1;
    i += 2;
  }
}

/**
 * Ids accumulate digit by digit as doubles; handed to another function or stored in a field
 * a double is boxed (an allocation per reference, a megabyte per megabyte scanned). Ids below
 * 2^31, all that exporters write, are passed as small integers, which are not.
 */
export function small(id: number): number {
  return id <= 0x7fffffff ? id | 0 : id;
}

function tooBig<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, ref: number): boolean {
  if (ref <= Number.MAX_SAFE_INTEGER) return false;
  t.fail("id_out_of_range", `a reference above #${Number.MAX_SAFE_INTEGER} in the statement starting on line ${s.statementLine}`);
  return true;
}

function finishStatement<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array, at: number): void {
  s.mode = M_BETWEEN;
  if (s.depth !== 0) {
    t.fail("unbalanced_parentheses", `a '(' without its ')' in the statement starting on line ${s.statementLine}`);
    return;
  }
  let args: Uint8Array | null = null;
  if (s.capturing) {
    appendCapture(t, s, chunk.subarray(s.captureStart, at));
    args = s.captureOverflow ? null : joinCapture(s.captureParts, s.captureBytes);
    s.capturing = false;
    s.captureParts = [];
  }
  if (s.capturedId < 0) {
    t.sink.header(s.headerKeyword, args, s.statementLine);
    return;
  }
  const slot = s.slot as S;
  t.sink.entity(s.capturedId, slot, s.statementLine);
  if (slot.wanted) t.sink.captured(s.capturedId, slot, args, s.statementLine);
}
