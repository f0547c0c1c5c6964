/**
 * Incremental byte-level scanner for STEP physical files (ISO 10303-21), fed chunks cut at
 * any boundary. It reports every entity instance (id, type, line) and every reference, and
 * hands over the raw argument bytes only of the types a sink asks for (and of header
 * statements); everything else is skipped without building strings. Pure: no I/O.
 *
 * Fatal syntax errors stop the scan (the caller fails the model with invalid_step);
 * what can be skipped is reported as a warning.
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
  M_STRING,
  M_STRING_QUOTE,
  M_TYPE,
  type ScanState,
  TYPE_NAME_MAX,
  initialState,
  isNameByte,
} from "./step-scan-state";
import { scanArgs } from "./step-scan-args";

export interface TypeSlot {
  readonly name: string;
  /** Whether the sink wants the raw arguments of this type's instances. */
  readonly wanted: boolean;
}

export interface StepProblem {
  severity: "error" | "warning";
  code: string;
  message: string;
  line: number;
}

export interface TokenSink<S extends TypeSlot> {
  /** Called once per distinct type name (upper-case as written). */
  typeSlot(name: string): S;
  entity(id: number, slot: S, line: number): void;
  /** Raw bytes after the type name up to (not including) the closing ';'; null when too large to keep. */
  captured(id: number, slot: S, args: Uint8Array | null, line: number): void;
  /** A header statement such as FILE_NAME with its raw argument bytes. */
  header(keyword: string, args: Uint8Array | null, line: number): void;
  reference(id: number): void;
  problem(problem: StepProblem): void;
}

/** Distinct entity type names accepted (IFC4X3 has fewer than 900); more is not an IFC model. */
export const MAX_TYPES = 4096;

/** Argument bytes kept per captured statement; larger ones are dropped with a warning. */
export const MAX_CAPTURE_BYTES = 8 * 1024 * 1024;

export class StepTokenizer<S extends TypeSlot> {
  readonly #sink: TokenSink<S>;
  readonly #state: ScanState;
  readonly #types: TypeTable<S>;
  #fatal: StepProblem | null = null;

  constructor(sink: TokenSink<S>) {
    this.#sink = sink;
    this.#state = initialState();
    this.#types = new TypeTable((name) => sink.typeSlot(name));
  }

  /** The fatal error that stopped the scan, if any. */
  get fatal(): StepProblem | null {
    return this.#fatal;
  }

  get line(): number {
    return this.#state.line;
  }

  /** Whether a complete exchange structure (up to END-ISO-10303-21;) has been read. */
  get complete(): boolean {
    return this.#state.ended;
  }

  push(chunk: Uint8Array): void {
    if (this.#fatal) return;
    scanChunk(this, this.#state, chunk);
  }

  /** Call once after the last chunk: reports a file cut short. */
  end(): void {
    const s = this.#state;
    if (this.#fatal) return;
    if (s.mode === M_STRING || s.mode === M_STRING_QUOTE) this.fail("unterminated_string", `the file ends inside a string opened on line ${s.openedLine}`, s.openedLine);
    else if (s.mode === M_COMMENT || s.mode === M_COMMENT_STAR) this.fail("unterminated_comment", `the file ends inside a comment opened on line ${s.openedLine}`, s.openedLine);
    else if (!s.ended) {
      this.fail(
        "unexpected_end",
        s.sawMagic ? "the file ends before END-ISO-10303-21; (cut short?)" : "the file does not start with ISO-10303-21;",
      );
    }
  }

  /** @internal called by the scan loop */
  fail(code: string, message: string, line = this.#state.line): void {
    if (this.#fatal) return;
    this.#fatal = { severity: "error", code, message, line };
    this.#state.mode = M_DEAD;
    this.#sink.problem(this.#fatal);
  }

  /** @internal */
  warn(code: string, message: string, line = this.#state.line): void {
    this.#sink.problem({ severity: "warning", code, message, line });
  }

  /** @internal */
  get sink(): TokenSink<S> {
    return this.#sink;
  }

  /** @internal the slot for the type name in state.name[0..nameLength) */
  slotFor(s: ScanState): S {
    return this.slotAt(s.name, 0, s.nameLength, nameHash(s.name, 0, s.nameLength));
  }

  /** @internal the slot for an upper-case type name in bytes[start..end) with its nameHash */
  slotAt(bytes: Uint8Array, start: number, end: number, hash: number): S {
    const slot = this.#types.slot(bytes, start, end, hash);
    if (this.#types.size > MAX_TYPES) this.fail("too_many_types", `more than ${MAX_TYPES} distinct entity types: not an IFC model`);
    return slot;
  }
}

/**
 * Hash of a type name from its length and a few bytes (names differ most after "IFC" and at
 * the end): cheap per instance; the table compares the whole name, so collisions cost a probe.
 */
export function nameHash(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  const last = end - 1;
  let hash = Math.imul(length, 0x9e3779b1);
  if (length > 5) hash = Math.imul(hash ^ ((bytes[start + 3] as number) | ((bytes[start + 4] as number) << 8) | ((bytes[start + 5] as number) << 16)), 0x85ebca6b);
  if (length > 0) {
    const middle = bytes[start + (length >> 1)] as number;
    hash = Math.imul(hash ^ ((bytes[last] as number) | ((bytes[last - (length > 1 ? 1 : 0)] as number) << 8) | (middle << 16)), 0xc2b2ae35);
  }
  return hash ^ (hash >>> 15);
}

/**
 * Type names seen so far, in an open-addressing table: one probe and a byte comparison per
 * instance, no string built (a model has a few hundred types and millions of instances).
 */
class TypeTable<S extends TypeSlot> {
  #capacity = 1024;
  #entries: ({ hash: number; bytes: Uint8Array; slot: S } | undefined)[] = new Array<undefined>(1024);
  #count = 0;

  constructor(private readonly make: (name: string) => S) {}

  get size(): number {
    return this.#count;
  }

  slot(bytes: Uint8Array, start: number, end: number, hash: number): S {
    const mask = this.#capacity - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = this.#entries[at];
      if (entry === undefined) break;
      if (entry.hash === hash && sameBytes(entry.bytes, bytes, start, end)) return entry.slot;
    }
    let name = "";
    for (let k = start; k < end; k++) name += String.fromCharCode(bytes[k] as number);
    const slot = this.make(name);
    this.#insert({ hash, bytes: bytes.slice(start, end), slot });
    return slot;
  }

  #insert(entry: { hash: number; bytes: Uint8Array; slot: S }): void {
    if ((this.#count + 1) * 2 > this.#capacity) {
      const old = this.#entries.filter((e) => e !== undefined);
      this.#capacity *= 2;
      this.#entries = new Array<undefined>(this.#capacity);
      this.#count = 0;
      for (const e of old) this.#insert(e);
    }
    const mask = this.#capacity - 1;
    let at = entry.hash & mask;
    while (this.#entries[at] !== undefined) at = (at + 1) & mask;
    this.#entries[at] = entry;
    this.#count++;
  }
}

function sameBytes(name: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  if (name.length !== end - start) return false;
  for (let k = 0; k < name.length; k++) if (name[k] !== bytes[start + k]) return false;
  return true;
}

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
function scanChunk<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState, chunk: Uint8Array): void {
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
        s.id = id;
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

function between<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState, chunk: Uint8Array, start: number): number {
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
function statementHead<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState, chunk: Uint8Array, at: number): number {
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
  s.id = id;
  s.statementLine = s.line;
  s.slot = slot;
  s.depth = 0;
  s.mode = M_ARGS;
  s.capturedId = id;
  if (slot.wanted) startCapture(s, j);
  return j;
}

function beforeType<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState, chunk: Uint8Array, i: number): number {
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

/** Comments, keywords and recovery: a few bytes per file, one byte per call. */
function rareMode<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState, chunk: Uint8Array, i: number): number {
  const c = chunk[i] as number;
  switch (s.mode) {
    case M_SLASH:
      if (c === STAR) {
        s.mode = M_COMMENT;
        s.openedLine = s.line;
        return i + 1;
      }
      if (s.resume === M_ARGS) {
        s.mode = M_ARGS; // a stray '/' inside arguments: not ours to judge
        return i;
      }
      t.warn("unexpected_character", "unexpected '/'; the statement was skipped");
      s.mode = M_SKIP;
      return i;
    case M_COMMENT:
      if (c === STAR) s.mode = M_COMMENT_STAR;
      else if (c === LF) s.line++;
      return i + 1;
    case M_COMMENT_STAR:
      if (c === SLASH) s.mode = s.resume;
      else if (c !== STAR) {
        s.mode = M_COMMENT;
        if (c === LF) s.line++;
      }
      return i + 1;
    case M_KEYWORD:
      if (isNameByte(c) || c === 0x2d) {
        if (s.nameLength >= TYPE_NAME_MAX) {
          t.fail("name_too_long", `a keyword longer than ${TYPE_NAME_MAX} characters`);
          return chunk.length;
        }
        s.name[s.nameLength++] = c >= 0x61 && c <= 0x7a ? c - 32 : c;
        return i + 1;
      }
      s.mode = M_KEYWORD_END;
      return i;
    case M_KEYWORD_END:
      if (isSpace(c)) {
        if (c === LF) s.line++;
        return i + 1;
      }
      if (c === SEMICOLON) {
        sectionKeyword(t, s);
        return i + 1;
      }
      if (c === OPEN && s.inHeader) {
        s.headerKeyword = nameOf(s);
        startCapture(s, i);
        s.mode = M_ARGS;
        s.depth = 0;
        s.capturedId = -1;
        return i;
      }
      t.warn("unexpected_keyword", `unexpected ${nameOf(s)}; the statement was skipped`);
      s.mode = M_SKIP;
      return i;
    default:
      // M_SKIP, recovery: up to the next ';' outside a string.
      if (c === LF) s.line++;
      else if (c === 0x27) s.skipInString = !s.skipInString;
      else if (c === SEMICOLON && !s.skipInString) s.mode = M_BETWEEN;
      return i + 1;
  }
}

function sectionKeyword<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState): void {
  const keyword = nameOf(s);
  s.mode = M_BETWEEN;
  switch (keyword) {
    case "ISO-10303-21":
      s.sawMagic = true;
      s.ended = false;
      return;
    case "HEADER":
      s.inHeader = true;
      return;
    case "DATA":
      s.inData = true;
      return;
    case "ENDSEC":
      s.inHeader = false;
      s.inData = false;
      return;
    case "END-ISO-10303-21":
      s.ended = true;
      s.inHeader = false;
      s.inData = false;
      return;
    default:
      t.warn("unexpected_keyword", `unexpected ${keyword}; the statement was skipped`);
  }
}

function nameOf(s: ScanState): string {
  let name = "";
  for (let k = 0; k < s.nameLength; k++) name += String.fromCharCode(s.name[k] ?? 0);
  return name;
}

function startCapture(s: ScanState, at: number): void {
  s.capturing = true;
  s.captureStart = at;
  s.captureParts = [];
  s.captureBytes = 0;
  s.captureOverflow = false;
}

/** @internal keeps a piece of the statement being captured (copied: chunks are reused by callers). */
export function appendCapture<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState, piece: Uint8Array): void {
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

function describeByte(c: number): string {
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, "0")}`;
}
