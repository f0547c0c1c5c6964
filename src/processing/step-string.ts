/**
 * Decodes the contents of a STEP (ISO 10303-21) string literal into Unicode:
 * '' -> ', \\ -> \, \X2\hhhh…\X0\ (UTF-16), \X4\hhhhhhhh…\X0\ (code points),
 * \X\hh (ISO 8859-1 byte), \S\c (c + 128 in the current \P?\ code page, ISO 8859-1 by default).
 * Malformed escapes are kept as written rather than guessed at.
 *
 * web-ifc decodes strings itself; this is the reference for readers that see raw STEP text
 * (the streaming scanner) and is cross-checked against web-ifc in the tests.
 */
export function decodeStepString(raw: string): string {
  let out = "";
  let page = 1; // ISO 8859-1 unless a \P?\ directive says otherwise
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i] as string;
    if (ch === "'" && raw[i + 1] === "'") {
      out += "'";
      i += 2;
      continue;
    }
    if (ch !== "\\") {
      out += ch;
      i += 1;
      continue;
    }
    // Sticky patterns match at i without copying the rest of the string (linear in its length).
    let match: RegExpExecArray | null;
    if (raw[i + 1] === "\\") {
      out += "\\";
      i += 2;
    } else if ((match = at(X2, raw, i))) {
      const units = (match[1] ?? "").match(/.{4}/g) ?? [];
      for (const unit of units) out += String.fromCharCode(parseInt(unit, 16));
      i += match[0].length;
    } else if ((match = at(X4, raw, i))) {
      const points = (match[1] ?? "").match(/.{8}/g) ?? [];
      out += points.map((point) => codePoint(parseInt(point, 16))).join("");
      i += match[0].length;
    } else if ((match = at(X, raw, i))) {
      out += String.fromCharCode(parseInt(match[1] ?? "0", 16));
      i += match[0].length;
    } else if ((match = at(P, raw, i))) {
      page = (match[1] ?? "A").charCodeAt(0) - 64;
      i += match[0].length;
    } else if ((match = at(S, raw, i))) {
      out += upperHalf(page, ((match[1] ?? " ").charCodeAt(0) & 0x7f) + 0x80);
      i += match[0].length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

const X2 = /\\X2\\((?:[0-9A-Fa-f]{4})*)\\X0\\/y;
const X4 = /\\X4\\((?:[0-9A-Fa-f]{8})*)\\X0\\/y;
const X = /\\X\\([0-9A-Fa-f]{2})/y;
const P = /\\P([A-I])\\/y;
const S = /\\S\\([\s\S])/y;

function at(pattern: RegExp, raw: string, index: number): RegExpExecArray | null {
  pattern.lastIndex = index;
  return pattern.exec(raw);
}

function codePoint(value: number): string {
  return value <= 0x10ffff && (value < 0xd800 || value > 0xdfff) ? String.fromCodePoint(value) : "\ufffd";
}

const pageDecoders = new Map<number, TextDecoder | null>();

/** A byte of the upper half of ISO 8859-<page>; ISO 8859-1 maps bytes to the same code points. */
function upperHalf(page: number, byte: number): string {
  if (page === 1) return String.fromCharCode(byte);
  let decoder = pageDecoders.get(page);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(`iso-8859-${page}`);
    } catch {
      decoder = null; // the runtime lacks that code page: fall back to ISO 8859-1
    }
    pageDecoders.set(page, decoder);
  }
  return decoder ? decoder.decode(new Uint8Array([byte])) : String.fromCharCode(byte);
}
