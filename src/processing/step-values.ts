/**
 * Parses the raw argument bytes the scanner captured for a few entities (materials, storeys,
 * the project, material relationships, header statements) into values. Iterative, so deep
 * nesting cannot overflow the stack; strings are decoded (escapes, UTF-8) and capped.
 */
import { decodeStepString } from "./step-string";

export type StepValue =
  | null // $
  | { t: "derived" } // *
  | { t: "ref"; id: number }
  | { t: "string"; value: string; truncated: boolean; invalidUtf8: boolean }
  | { t: "number"; value: number }
  | { t: "enum"; value: string }
  | { t: "binary"; value: string }
  | { t: "typed"; type: string; args: StepValue[] }
  | StepValue[];

/** Characters kept of any string; longer ones are cut (the summary says so in validation). */
export const MAX_STRING_CHARS = 4096;
/** Raw bytes of a string looked at: enough for MAX_STRING_CHARS after any escape. */
const MAX_RAW_STRING_BYTES = MAX_STRING_CHARS * 4;

const utf8 = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Attributes of a statement from its captured bytes, `(a,b,...)` with surrounding space. */
export function parseArguments(bytes: Uint8Array): StepValue[] {
  const top: StepValue[] = [];
  const stack: StepValue[][] = [];
  let current: StepValue[] | null = null;
  let pendingType: string | null = null;
  const typedAt: (string | null)[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const c = bytes[i] ?? 0;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c) {
      i++;
    } else if (c === 0x2f && bytes[i + 1] === 0x2a) {
      const close = indexOfPair(bytes, 0x2a, 0x2f, i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === 0x28) {
      const list: StepValue[] = [];
      if (current) stack.push(current);
      typedAt.push(pendingType);
      pendingType = null;
      current = list;
      i++;
    } else if (c === 0x29) {
      const done = current ?? [];
      const type = typedAt.pop() ?? null;
      const value: StepValue = type === null ? done : { t: "typed", type, args: done };
      const parent = stack.pop();
      if (parent) {
        parent.push(value);
        current = parent;
      } else {
        if (current) top.push(...(type === null ? done : [value]));
        current = null;
      }
      i++;
    } else {
      const [value, next, type] = scalar(bytes, i);
      i = next;
      if (type !== null) {
        pendingType = type;
        continue;
      }
      (current ?? top).push(value);
    }
  }
  return top;
}

/** One scalar from `i`: answers [value, next index, typed-parameter name if it was one]. */
function scalar(bytes: Uint8Array, i: number): [StepValue, number, string | null] {
  const c = bytes[i] ?? 0;
  if (c === 0x24) return [null, i + 1, null];
  if (c === 0x2a) return [{ t: "derived" }, i + 1, null];
  if (c === 0x23) {
    const end = runEnd(bytes, i + 1, isDigit);
    return [{ t: "ref", id: Number(latin1(bytes, i + 1, end)) }, end, null];
  }
  if (c === 0x27) return stringAt(bytes, i);
  if (c === 0x22) {
    const end = bytes.indexOf(0x22, i + 1);
    const stop = end < 0 ? bytes.length : end;
    return [{ t: "binary", value: latin1(bytes, i + 1, stop) }, stop + 1, null];
  }
  if (c === 0x2e) {
    const end = bytes.indexOf(0x2e, i + 1);
    const stop = end < 0 ? bytes.length : end;
    return [{ t: "enum", value: latin1(bytes, i + 1, stop) }, stop + 1, null];
  }
  if (isNameStart(c)) {
    const end = runEnd(bytes, i, isNameByte);
    return [null, end, latin1(bytes, i, end).toUpperCase()];
  }
  const end = runEnd(bytes, i, isNumberByte);
  if (end === i) return [null, i + 1, null]; // a byte no value starts with: skipped
  return [{ t: "number", value: Number(latin1(bytes, i, end)) }, end, null];
}

function stringAt(bytes: Uint8Array, open: number): [StepValue, number, null] {
  let i = open + 1;
  const n = bytes.length;
  for (;;) {
    const quote = bytes.indexOf(0x27, i);
    if (quote < 0) {
      i = n;
      break;
    }
    if (bytes[quote + 1] === 0x27) {
      i = quote + 2;
      continue;
    }
    i = quote;
    break;
  }
  const raw = bytes.subarray(open + 1, Math.min(i, open + 1 + MAX_RAW_STRING_BYTES));
  let invalidUtf8 = false;
  let text: string;
  if (isAscii(raw)) text = latin1(raw, 0, raw.length);
  else {
    try {
      text = strictUtf8.decode(raw);
    } catch {
      invalidUtf8 = true;
      text = utf8.decode(raw);
    }
  }
  let value = decodeStepString(text);
  const truncated = i - open - 1 > MAX_RAW_STRING_BYTES || value.length > MAX_STRING_CHARS;
  if (value.length > MAX_STRING_CHARS) value = value.slice(0, MAX_STRING_CHARS);
  return [{ t: "string", value, truncated, invalidUtf8 }, i + 1, null];
}

function isAscii(bytes: Uint8Array): boolean {
  for (let k = 0; k < bytes.length; k++) if ((bytes[k] ?? 0) >= 0x80) return false;
  return true;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let k = from; k < to; k += 4096) {
    out += String.fromCharCode(...bytes.subarray(k, Math.min(to, k + 4096)));
  }
  return out;
}

function runEnd(bytes: Uint8Array, from: number, accept: (c: number) => boolean): number {
  let i = from;
  while (i < bytes.length && accept(bytes[i] ?? 0)) i++;
  return i;
}

function indexOfPair(bytes: Uint8Array, a: number, b: number, from: number): number {
  for (let i = bytes.indexOf(a, from); i >= 0; i = bytes.indexOf(a, i + 1)) if (bytes[i + 1] === b) return i;
  return -1;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isNameStart = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isNameByte = (c: number): boolean => isNameStart(c) || isDigit(c);
const isNumberByte = (c: number): boolean => isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x45 || c === 0x65;

/** Helpers for reading attributes. */
export function stringOf(value: StepValue | undefined): string | null {
  return value && !Array.isArray(value) && value.t === "string" ? value.value : null;
}

export function numberOf(value: StepValue | undefined): number | null {
  if (value && !Array.isArray(value) && value.t === "typed") return numberOf(value.args[0]);
  return value && !Array.isArray(value) && value.t === "number" && Number.isFinite(value.value) ? value.value : null;
}

/** Every reference in a value, lists flattened. */
export function refsOf(value: StepValue | undefined): number[] {
  const out: number[] = [];
  const pending: (StepValue | undefined)[] = [value];
  for (let v = pending.pop(); pending.length > 0 || v !== undefined; v = pending.pop()) {
    if (Array.isArray(v)) for (let k = v.length - 1; k >= 0; k--) pending.push(v[k]);
    else if (v && v.t === "ref") out.push(v.id);
  }
  return out;
}
