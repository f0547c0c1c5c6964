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
    const rest = raw.slice(i);
    let match: RegExpExecArray | null;
    if (rest.startsWith("\\\\")) {
      out += "\\";
      i += 2;
    } else if ((match = /^\\X2\\((?:[0-9A-Fa-f]{4})*)\\X0\\/.exec(rest))) {
      const units = (match[1] ?? "").match(/.{4}/g) ?? [];
      out += String.fromCharCode(...units.map((unit) => parseInt(unit, 16)));
      i += match[0].length;
    } else if ((match = /^\\X4\\((?:[0-9A-Fa-f]{8})*)\\X0\\/.exec(rest))) {
      const points = (match[1] ?? "").match(/.{8}/g) ?? [];
      out += points.map((point) => codePoint(parseInt(point, 16))).join("");
      i += match[0].length;
    } else if ((match = /^\\X\\([0-9A-Fa-f]{2})/.exec(rest))) {
      out += String.fromCharCode(parseInt(match[1] ?? "0", 16));
      i += match[0].length;
    } else if ((match = /^\\P([A-I])\\/.exec(rest))) {
      page = (match[1] ?? "A").charCodeAt(0) - 64;
      i += match[0].length;
    } else if ((match = /^\\S\\([\s\S])/.exec(rest))) {
      out += upperHalf(page, ((match[1] ?? " ").charCodeAt(0) & 0x7f) + 0x80);
      i += match[0].length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
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
