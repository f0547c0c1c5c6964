/**
 * The statement level of the STEP scanner: between statements, instance heads (`#id=TYPE`),
 * header keywords, comments and recovery. Argument bytes go to scanArgs.
 */
import {
  M_ARGS,
  M_BEFORE_EQUALS,
  M_BEFORE_TYPE,
  M_BETWEEN,
  M_BINARY,
  M_COMMENT,
  M_COMMENT_STAR,
  M_DEAD,
  M_ID,
  M_KEYWORD,
  M_KEYWORD_END,
  M_SKIP,
  M_SLASH,
  M_TYPE,
  type ScanState,
  TYPE_NAME_MAX,
  isNameByte,
} from "./step-scan-state";
import { scanArgs, small } from "./step-scan-args";
import { appendCapture, startCapture } from "./step-capture";
import type { ScanContext, TypeSlot } from "./step-sink";
import { nameHash } from "./step-type-table";
import { rareMode } from "./step-rare-modes";

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SLASH = 0x2f;
const STAR = 0x2a;
const HASH = 0x23;
const EQUALS = 0x3d;
const OPEN = 0x28;
const SEMICOLON = 0x3b;

const isSpace = (c: number): boolean => c === SPACE || c === LF || c === CR || c === TAB;

/** The statement-level state machine; argument bytes are handed to scanArgs. */
export function scanChunk<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array): void {
  const n = chunk.length;
  let i = 0;
  if (s.capturing) s.captureStart = 0;
  while (i < n) {
    const mode = s.mode;
    if (mode >= M_ARGS && mode <= M_BINARY) {
      i = scanArgs(t, s, chunk, i);
      continue;
    }
    switch (mode) {
      case M_DEAD:
        return;
      case M_BETWEEN:
        i = between(t, s, chunk, i);
        continue;
      case M_ID: {
        let id = s.id;
        let digits = s.digits;
        let c = chunk[i] as number;
        while (c >= 0x30 && c <= 0x39) {
          id = id * 10 + (c - 0x30);
          digits++;
          if (++i === n) break;
          c = chunk[i] as number;
        }
        s.id = small(id);
        s.digits = digits;
        if (id > Number.MAX_SAFE_INTEGER) {
          t.fail("id_out_of_range", `an instance id above ${Number.MAX_SAFE_INTEGER}`);
          return;
        }
        if (i === n) continue;
        if (digits === 0) {
          t.warn("missing_id", "'#' without an instance id; the statement was skipped");
          s.mode = M_SKIP;
        } else {
          s.mode = M_BEFORE_EQUALS;
        }
        continue;
      }
      case M_BEFORE_EQUALS:
      case M_BEFORE_TYPE:
        i = beforeType(t, s, chunk, i);
        continue;
      case M_TYPE: {
        let length = s.nameLength;
        const name = s.name;
        let c = chunk[i] as number;
        while (isNameByte(c)) {
          if (length >= TYPE_NAME_MAX) {
            t.fail("name_too_long", `an entity type name longer than ${TYPE_NAME_MAX} characters`);
            return;
          }
          name[length++] = c >= 0x61 ? c - 32 : c;
          if (++i === n) break;
          c = chunk[i] as number;
        }
        s.nameLength = length;
        if (i === n) continue;
        const slot = t.slotFor(s);
        if (t.fatal) return;
        s.slot = slot;
        s.depth = s.complex ? 1 : 0;
        s.mode = M_ARGS;
        s.capturedId = s.id;
        if (slot.wanted) startCapture(s, i);
        continue;
      }
      default:
        i = rareMode(t, s, chunk, i);
    }
  }
  if (s.capturing) appendCapture(t, s, chunk.subarray(s.captureStart, n));
}

function between<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array, start: number): number {
  const n = chunk.length;
  let i = start;
  let c = chunk[i] as number;
  while (isSpace(c)) {
    if (c === LF) s.line++;
    if (++i === n) return n;
    c = chunk[i] as number;
  }
  if (c === HASH) {
    if (!s.inData) {
      t.warn("instance_outside_data", "an entity instance outside the DATA section was skipped");
      s.mode = M_SKIP;
    } else {
      const fast = statementHead(t, s, chunk, i);
      if (fast >= 0) return fast;
      s.mode = M_ID;
      s.id = 0;
      s.digits = 0;
      s.statementLine = s.line;
    }
    return i + 1;
  }
  if (c === SLASH) {
    s.resume = M_BETWEEN;
    s.mode = M_SLASH;
    return i + 1;
  }
  if (isNameByte(c)) {
    s.mode = M_KEYWORD;
    s.nameLength = 0;
    s.statementLine = s.line;
    return i;
  }
  if (s.ended || !s.sawMagic) {
    s.junkAfterEnd = true; // text around exchange structures (e.g. separators between concatenated files)
    return i + 1;
  }
  t.warn("unexpected_character", `unexpected character ${describeByte(c)}; the statement was skipped`);
  s.mode = M_SKIP;
  return i + 1;
}

/** Bytes of an upper-case entity name: A-Z, 0-9, '_'. */
const UPPER_NAME = new Uint8Array(256);
for (let c = 0x41; c <= 0x5a; c++) UPPER_NAME[c] = 1;
for (let c = 0x30; c <= 0x39; c++) UPPER_NAME[c] = 1;
UPPER_NAME[0x5f] = 1;

/**
 * The common case in one go: `#id=TYPE` (spaces allowed around '=') wholly inside this chunk.
 * Answers where the arguments start, or -1 to let the state machine take the slow path.
 */
function statementHead<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array, at: number): number {
  const n = chunk.length;
  let j = at + 1;
  let id = 0;
  let c = 0;
  while (j < n) {
    c = chunk[j] as number;
    if (c < 0x30 || c > 0x39) break;
    id = id * 10 + (c - 0x30);
    j++;
  }
  if (j === at + 1 || j - at > 16) return -1;
  while (c === SPACE && ++j < n) c = chunk[j] as number;
  if (j >= n || c !== EQUALS) return -1;
  c = chunk[++j] as number;
  while (c === SPACE && ++j < n) c = chunk[j] as number;
  const start = j;
  while (j < n && UPPER_NAME[chunk[j] as number] === 1) j++;
  c = chunk[j] as number;
  if (j === start || j >= n || j - start > TYPE_NAME_MAX || (c >= 0x61 && c <= 0x7a)) return -1;
  const slot = t.slotAt(chunk, start, j, nameHash(chunk, start, j));
  if (t.fatal) return n;
  const smallId = small(id);
  s.id = smallId;
  s.statementLine = s.line;
  s.slot = slot;
  s.depth = 0;
  s.mode = M_ARGS;
  s.capturedId = smallId;
  if (slot.wanted) startCapture(s, j);
  return j;
}

function beforeType<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array, i: number): number {
  const c = chunk[i] as number;
  if (isSpace(c)) {
    if (c === LF) s.line++;
    return i + 1;
  }
  if (c === SLASH) {
    s.resume = s.mode;
    s.mode = M_SLASH;
    return i + 1;
  }
  if (s.mode === M_BEFORE_EQUALS) {
    if (c === EQUALS) {
      s.mode = M_BEFORE_TYPE;
      s.complex = false;
      return i + 1;
    }
    t.warn("missing_equals", `#${s.id} is not followed by '='; the statement was skipped`);
    s.mode = M_SKIP;
    return i;
  }
  if (isNameByte(c)) {
    s.mode = M_TYPE;
    s.nameLength = 0;
    return i;
  }
  if (c === OPEN && !s.complex) {
    s.complex = true; // #1=(A(..)B(..)); counted under its first partial type
    return i + 1;
  }
  t.warn("missing_type", `#${s.id} has no entity type; the statement was skipped`);
  s.mode = M_SKIP;
  return i;
}

function describeByte(c: number): string {
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, "0")}`;
}
