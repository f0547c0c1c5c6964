/** The STEP scanner's rare states: comments, keywords and sections, recovery after a bad statement. */
import {
  M_ARGS,
  M_BETWEEN,
  M_COMMENT,
  M_COMMENT_STAR,
  M_KEYWORD,
  M_KEYWORD_END,
  M_SKIP,
  M_SLASH,
  type ScanState,
  TYPE_NAME_MAX,
  isNameByte,
} from "./step-scan-state";
import { startCapture } from "./step-capture";
import type { ScanContext, TypeSlot } from "./step-sink";

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SLASH = 0x2f;
const STAR = 0x2a;
const OPEN = 0x28;
const SEMICOLON = 0x3b;

const isSpace = (c: number): boolean => c === SPACE || c === LF || c === CR || c === TAB;

/** Comments, keywords and recovery: a few bytes per file, one byte per call. */
export function rareMode<S extends TypeSlot>(t: ScanContext<S>, s: ScanState, chunk: Uint8Array, i: number): number {
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

function sectionKeyword<S extends TypeSlot>(t: ScanContext<S>, s: ScanState): void {
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

