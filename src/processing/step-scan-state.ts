/** The scanner's state between chunks (see step-tokenizer.ts); mutable, owned by one tokenizer. */
/* Modes as plain numeric constants: compared per byte in places, so they must fold. */
export const M_BETWEEN = 0;
export const M_SLASH = 1;
export const M_COMMENT = 2;
export const M_COMMENT_STAR = 3;
export const M_KEYWORD = 4;
export const M_KEYWORD_END = 5;
export const M_ID = 6;
export const M_BEFORE_EQUALS = 7;
export const M_BEFORE_TYPE = 8;
export const M_TYPE = 9;
export const M_ARGS = 10;
export const M_STRING = 11;
export const M_STRING_QUOTE = 12;
export const M_REF = 13;
export const M_BINARY = 14;
export const M_SKIP = 15;
export const M_DEAD = 16;
export type Mode = number;

/** Longest entity type name or keyword accepted (the longest IFC name has 52 characters). */
export const TYPE_NAME_MAX = 256;

export interface ScanState {
  mode: Mode;
  /** Where a comment returns to. */
  resume: Mode;
  line: number;
  /** Line of the statement being read, and of the string or comment open at the end of the input. */
  statementLine: number;
  openedLine: number;
  sawMagic: boolean;
  inHeader: boolean;
  inData: boolean;
  ended: boolean;
  junkAfterEnd: boolean;
  /** Type name or keyword being read. */
  name: Uint8Array;
  nameLength: number;
  id: number;
  digits: number;
  ref: number;
  refDigits: number;
  depth: number;
  complex: boolean;
  slot: unknown;
  /** Instance id whose arguments are being read; -1 for a header statement. */
  capturedId: number;
  headerKeyword: string;
  capturing: boolean;
  captureStart: number;
  captureParts: Uint8Array[];
  captureBytes: number;
  captureOverflow: boolean;
  skipInString: boolean;
}

export function initialState(): ScanState {
  return {
    mode: M_BETWEEN,
    resume: M_BETWEEN,
    line: 1,
    statementLine: 1,
    openedLine: 1,
    sawMagic: false,
    inHeader: false,
    inData: false,
    ended: false,
    junkAfterEnd: false,
    name: new Uint8Array(TYPE_NAME_MAX),
    nameLength: 0,
    id: 0,
    digits: 0,
    ref: 0,
    refDigits: 0,
    depth: 0,
    complex: false,
    slot: null,
    capturedId: -1,
    headerKeyword: "",
    capturing: false,
    captureStart: 0,
    captureParts: [],
    captureBytes: 0,
    captureOverflow: false,
    skipInString: false,
  };
}

/** Letters, digits and '_' (STEP keywords and entity names; lower case accepted). */
export function isNameByte(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}
