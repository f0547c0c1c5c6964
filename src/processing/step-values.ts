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
      const value = scalar(bytes, i);
      i = scanned.next;
      if (scanned.typeName !== null) {
        pendingType = scanned.typeName;
        continue;
      }
      (current ?? top).push(value);
    }
  }
  return top;
}

/** Where the last scalar ended, and the name if it was a typed parameter's (no tuple per value). */
const scanned = { next: 0, typeName: null as string | null };

/** One scalar from `i`; `scanned` says where it ends and whether it named a typed parameter. */
function scalar(bytes: Uint8Array, i: number): StepValue {
  const c = bytes[i] ?? 0;
  scanned.typeName = null;
  scanned.next = i + 1;
  if (c === 0x24) return null;
  if (c === 0x2a) return { t: "derived" };
  if (c === 0x23) {
    let id = 0;
    let end = i + 1;
    for (let d = (bytes[end] ?? 0) - 0x30; d >= 0 && d <= 9; d = (bytes[end] ?? 0) - 0x30) {
      id = id * 10 + d;
      end++;
    }
    scanned.next = end;
    return { t: "ref", id };
  }
  if (c === 0x27) return stringAt(bytes, i);
  if (c === 0x22 || c === 0x2e) {
    const close = bytes.indexOf(c, i + 1);
    const stop = close < 0 ? bytes.length : close;
    scanned.next = stop + 1;
    const value = latin1(bytes, i + 1, stop);
    return c === 0x22 ? { t: "binary", value } : { t: "enum", value };
  }
  if (isNameStart(c)) {
    const end = runEnd(bytes, i, isNameByte);
    scanned.next = end;
    scanned.typeName = latin1(bytes, i, end).toUpperCase();
    return null;
  }
  const end = runEnd(bytes, i, isNumberByte);
  if (end === i) return null; // a byte no value starts with: skipped
  scanned.next = end;
  return { t: "number", value: Number(latin1(bytes, i, end)) };
}

function stringAt(bytes: Uint8Array, open: number): StepValue {
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
  scanned.next = i + 1;
  return { t: "string", value, truncated, invalidUtf8 };
}

function isAscii(bytes: Uint8Array): boolean {
  for (let k = 0; k < bytes.length; k++) if ((bytes[k] ?? 0) >= 0x80) return false;
  return true;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  if (to - from <= 32) {
    for (let k = from; k < to; k++) out += String.fromCharCode(bytes[k] ?? 0);
    return out;
  }
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
  while (pending.length > 0) {
    const v = pending.pop();
    if (Array.isArray(v)) for (let k = v.length - 1; k >= 0; k--) pending.push(v[k]);
    else if (v && v.t === "ref") out.push(v.id);
  }
  return out;
}
