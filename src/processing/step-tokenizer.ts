/**
 * Incremental byte-level scanner for STEP physical files (ISO 10303-21), fed chunks cut at
 * any boundary. It reports every entity instance (id, type, line) and every reference, and
 * hands over the raw argument bytes only of the types a sink asks for (and of header
 * statements); everything else is skipped without building strings. Pure: no I/O.
 *
 * Fatal syntax errors stop the scan (the caller fails the model with invalid_step);
 * what can be skipped is reported as a warning.
 */
import { MODE, type ScanState, TYPE_NAME_MAX, initialState, isNameByte } from "./step-scan-state";
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

/** Argument bytes kept per captured statement; larger ones are dropped with a warning. */
export const MAX_CAPTURE_BYTES = 8 * 1024 * 1024;

export class StepTokenizer<S extends TypeSlot> {
  readonly #sink: TokenSink<S>;
  readonly #state: ScanState;
  readonly #slots = new Map<number, S[]>();
  #fatal: StepProblem | null = null;

  constructor(sink: TokenSink<S>) {
    this.#sink = sink;
    this.#state = initialState();
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
    if (s.mode === MODE.string || s.mode === MODE.stringQuote) this.fail("unterminated_string", `the file ends inside a string opened on line ${s.openedLine}`);
    else if (s.mode === MODE.comment || s.mode === MODE.commentStar) this.fail("unterminated_comment", `the file ends inside a comment opened on line ${s.openedLine}`);
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
    this.#state.mode = MODE.dead;
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
    const bytes = s.name;
    const length = s.nameLength;
    let hash = length;
    for (let k = 0; k < length; k++) hash = (Math.imul(hash, 31) + (bytes[k] ?? 0)) | 0;
    let bucket = this.#slots.get(hash);
    if (bucket) {
      for (const slot of bucket) if (sameName(slot.name, bytes, length)) return slot;
    } else {
      bucket = [];
      this.#slots.set(hash, bucket);
    }
    let name = "";
    for (let k = 0; k < length; k++) name += String.fromCharCode(bytes[k] ?? 0);
    const slot = this.#sink.typeSlot(name);
    bucket.push(slot);
    return slot;
  }
}

function sameName(name: string, bytes: Uint8Array, length: number): boolean {
  if (name.length !== length) return false;
  for (let k = 0; k < length; k++) if (name.charCodeAt(k) !== bytes[k]) return false;
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
    switch (s.mode) {
      case MODE.args:
      case MODE.string:
      case MODE.stringQuote:
      case MODE.ref:
      case MODE.binary:
        i = scanArgs(t, s, chunk, i);
        continue;
      case MODE.dead:
        return;
      case MODE.between: {
        const c = chunk[i] ?? 0;
        if (isSpace(c)) {
          if (c === LF) s.line++;
          i++;
        } else if (c === SLASH) {
          s.resume = MODE.between;
          s.mode = MODE.slash;
          i++;
        } else if (c === HASH) {
          if (!s.inData) {
            t.warn("instance_outside_data", "an entity instance outside the DATA section was skipped");
            s.mode = MODE.skip;
          } else {
            s.mode = MODE.id;
            s.id = 0;
            s.digits = 0;
            s.statementLine = s.line;
          }
          i++;
        } else if (isNameByte(c)) {
          s.mode = MODE.keyword;
          s.nameLength = 0;
          s.statementLine = s.line;
        } else if (s.ended || !s.sawMagic) {
          i++; // text around exchange structures (e.g. separators between concatenated files)
          s.junkAfterEnd = true;
        } else {
          t.warn("unexpected_character", `unexpected character ${describeByte(c)}; the statement was skipped`);
          s.mode = MODE.skip;
          i++;
        }
        continue;
      }
      case MODE.slash: {
        if (chunk[i] === STAR) {
          s.mode = MODE.comment;
          s.openedLine = s.line;
          i++;
        } else if (s.resume === MODE.args) {
          s.mode = MODE.args; // a stray '/' inside arguments: not ours to judge
        } else {
          t.warn("unexpected_character", "unexpected '/'; the statement was skipped");
          s.mode = MODE.skip;
        }
        continue;
      }
      case MODE.comment: {
        const c = chunk[i] ?? 0;
        if (c === STAR) s.mode = MODE.commentStar;
        else if (c === LF) s.line++;
        i++;
        continue;
      }
      case MODE.commentStar: {
        const c = chunk[i] ?? 0;
        if (c === SLASH) s.mode = s.resume;
        else if (c !== STAR) {
          s.mode = MODE.comment;
          if (c === LF) s.line++;
        }
        i++;
        continue;
      }
      case MODE.keyword: {
        const c = chunk[i] ?? 0;
        if (isNameByte(c) || c === 0x2d) {
          if (s.nameLength >= TYPE_NAME_MAX) {
            t.fail("name_too_long", `a keyword longer than ${TYPE_NAME_MAX} characters`);
            return;
          }
          s.name[s.nameLength++] = c >= 0x61 && c <= 0x7a ? c - 32 : c;
          i++;
        } else {
          s.mode = MODE.keywordEnd;
        }
        continue;
      }
      case MODE.keywordEnd: {
        const c = chunk[i] ?? 0;
        if (isSpace(c)) {
          if (c === LF) s.line++;
          i++;
        } else if (c === SEMICOLON) {
          sectionKeyword(t, s);
          i++;
        } else if (c === OPEN && s.inHeader) {
          s.headerKeyword = nameOf(s);
          startCapture(s, i);
          s.mode = MODE.args;
          s.depth = 0;
          s.capturedId = -1;
        } else {
          t.warn("unexpected_keyword", `unexpected ${nameOf(s)}; the statement was skipped`);
          s.mode = MODE.skip;
        }
        continue;
      }
      case MODE.id: {
        const c = chunk[i] ?? 0;
        if (c >= 0x30 && c <= 0x39) {
          s.id = s.id * 10 + (c - 0x30);
          s.digits++;
          if (s.id > Number.MAX_SAFE_INTEGER) {
            t.fail("id_out_of_range", `an instance id above ${Number.MAX_SAFE_INTEGER}`);
            return;
          }
          i++;
        } else if (s.digits === 0) {
          t.warn("missing_id", "'#' without an instance id; the statement was skipped");
          s.mode = MODE.skip;
        } else {
          s.mode = MODE.beforeEquals;
        }
        continue;
      }
      case MODE.beforeEquals:
      case MODE.beforeType: {
        const c = chunk[i] ?? 0;
        if (isSpace(c)) {
          if (c === LF) s.line++;
          i++;
        } else if (c === SLASH) {
          s.resume = s.mode;
          s.mode = MODE.slash;
          i++;
        } else if (s.mode === MODE.beforeEquals) {
          if (c === EQUALS) {
            s.mode = MODE.beforeType;
            s.complex = false;
            i++;
          } else {
            t.warn("missing_equals", `#${s.id} is not followed by '='; the statement was skipped`);
            s.mode = MODE.skip;
          }
        } else if (isNameByte(c)) {
          s.mode = MODE.type;
          s.nameLength = 0;
        } else if (c === OPEN && !s.complex) {
          s.complex = true; // #1=(A(..)B(..)); counted under its first partial type
          i++;
        } else {
          t.warn("missing_type", `#${s.id} has no entity type; the statement was skipped`);
          s.mode = MODE.skip;
        }
        continue;
      }
      case MODE.type: {
        const c = chunk[i] ?? 0;
        if (isNameByte(c)) {
          if (s.nameLength >= TYPE_NAME_MAX) {
            t.fail("name_too_long", `an entity type name longer than ${TYPE_NAME_MAX} characters`);
            return;
          }
          s.name[s.nameLength++] = c >= 0x61 && c <= 0x7a ? c - 32 : c;
          i++;
          continue;
        }
        const slot = t.slotFor(s);
        s.slot = slot;
        s.depth = s.complex ? 1 : 0;
        s.mode = MODE.args;
        s.capturedId = s.id;
        if (slot.wanted) startCapture(s, i);
        continue;
      }
      case MODE.skip: {
        // Recovery: up to the next ';' outside a string.
        const c = chunk[i] ?? 0;
        if (c === LF) s.line++;
        else if (c === 0x27) s.skipInString = !s.skipInString;
        else if (c === SEMICOLON && !s.skipInString) s.mode = MODE.between;
        i++;
        continue;
      }
    }
  }
  if (s.capturing) appendCapture(t, s, chunk.subarray(s.captureStart, n));
}

function sectionKeyword<S extends TypeSlot>(t: StepTokenizer<S>, s: ScanState): void {
  const keyword = nameOf(s);
  s.mode = MODE.between;
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
