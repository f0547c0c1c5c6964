/**
 * Decides from the first bytes of an upload whether it is an IFC STEP file (ISO 10303-21)
 * and which schema it declares. Pure: no I/O, fed the prefix seen so far.
 */
export const SNIFF_WINDOW_BYTES = 64 * 1024;

export type SniffResult =
  | { kind: "need-more" }
  | { kind: "ifc"; schema: string; headerBytes: number }
  | { kind: "not-step"; reason: string }
  | { kind: "unsupported-schema"; schema: string }
  | { kind: "invalid-header"; reason: string };

const MAGIC = "ISO-10303-21;";
// IFC2X3, IFC4, IFC4X1..IFC4X3 with any suffix (IFC4X3_RC1..RC4, IFC4X3_ADD1/ADD2, IFC2X3_TC1),
// and the older final releases IFC2X_FINAL and IFC2X2_FINAL still found in archives.
const SUPPORTED_SCHEMA = /^(IFC(2X3|4|4X1|4X2|4X3)(_[A-Z0-9]+)*|IFC2X_FINAL|IFC2X2_FINAL)$/;

/**
 * @param prefix the first bytes of the body (at most SNIFF_WINDOW_BYTES are looked at)
 * @param complete true when the body ends within `prefix`
 */
export function sniffStep(prefix: Uint8Array, complete: boolean): SniffResult {
  const window = prefix.subarray(0, SNIFF_WINDOW_BYTES);
  const exhausted = complete || prefix.byteLength >= SNIFF_WINDOW_BYTES;
  // STEP is 7-bit text with escapes; latin1 maps each byte to one character losslessly.
  const text = new TextDecoder("latin1").decode(window);
  let at = text.startsWith("\u00ef\u00bb\u00bf") ? 3 : 0;
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;

  const head = text.slice(at, at + MAGIC.length);
  if (head.length < MAGIC.length && !exhausted && MAGIC.startsWith(head)) return { kind: "need-more" };
  if (head !== MAGIC) return { kind: "not-step", reason: "the body does not start with ISO-10303-21;" };

  // Header statements end with ';': until the window is exhausted, look only at whole
  // statements so a word cut at the end of the prefix is never mistaken for a full one.
  const end = exhausted ? text.length : text.lastIndexOf(";") + 1;
  const tokens = tokenize(text.slice(0, end), at + MAGIC.length);
  const schemas = readFileSchema(tokens);
  if (schemas.kind === "incomplete") {
    return exhausted
      ? {
          kind: "invalid-header",
          reason: complete
            ? "the STEP header ends before FILE_SCHEMA"
            : `no FILE_SCHEMA within the first ${SNIFF_WINDOW_BYTES / 1024} KiB`,
        }
      : { kind: "need-more" };
  }
  if (schemas.kind === "error") return { kind: "invalid-header", reason: schemas.reason };
  const schema = schemas.names[0]?.toUpperCase();
  if (!schema) return { kind: "invalid-header", reason: "FILE_SCHEMA names no schema" };
  if (!SUPPORTED_SCHEMA.test(schema)) return { kind: "unsupported-schema", schema };
  return { kind: "ifc", schema, headerBytes: schemas.end };
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

type Token =
  | { type: "word"; value: string; end: number }
  | { type: "string"; value: string; end: number }
  | { type: "punct"; value: string; end: number }
  | { type: "eof"; end: number };

/** Lazily yields STEP tokens; comments are skipped, strings keep their raw text. */
function* tokenize(text: string, from: number): Generator<Token> {
  let at = from;
  while (at < text.length) {
    const ch = text[at] ?? "";
    if (isSpace(ch.charCodeAt(0))) {
      at++;
    } else if (text.startsWith("/*", at)) {
      const close = text.indexOf("*/", at + 2);
      if (close < 0) break;
      at = close + 2;
    } else if (ch === "'") {
      let end = at + 1;
      for (;;) {
        const quote = text.indexOf("'", end);
        if (quote < 0) return yield { type: "eof", end: text.length };
        if (text[quote + 1] === "'") {
          end = quote + 2;
          continue;
        }
        yield { type: "string", value: text.slice(at + 1, quote).replaceAll("''", "'"), end: quote + 1 };
        at = quote + 1;
        break;
      }
    } else if (/[A-Za-z0-9_\-.]/.test(ch)) {
      let end = at + 1;
      while (end < text.length && /[A-Za-z0-9_\-.]/.test(text[end] ?? "")) end++;
      yield { type: "word", value: text.slice(at, end), end };
      at = end;
    } else {
      yield { type: "punct", value: ch, end: at + 1 };
      at++;
    }
  }
  yield { type: "eof", end: text.length };
}

type SchemaRead = { kind: "ok"; names: string[]; end: number } | { kind: "incomplete" } | { kind: "error"; reason: string };

function readFileSchema(tokens: Generator<Token>): SchemaRead {
  const next = (): Token => tokens.next().value ?? { type: "eof", end: 0 };
  const first = next();
  if (first.type === "eof") return { kind: "incomplete" };
  if (first.type !== "word" || first.value.toUpperCase() !== "HEADER") {
    return { kind: "error", reason: "ISO-10303-21; is not followed by HEADER;" };
  }
  for (;;) {
    const token = next();
    if (token.type === "eof") return { kind: "incomplete" };
    if (token.type !== "word") continue;
    const word = token.value.toUpperCase();
    if (word === "ENDSEC") return { kind: "error", reason: "the STEP header has no FILE_SCHEMA" };
    if (word !== "FILE_SCHEMA") continue;
    return readSchemaList(next);
  }
}

/** Reads `(('IFC4', ...))` after FILE_SCHEMA. */
function readSchemaList(next: () => Token): SchemaRead {
  const names: string[] = [];
  for (const expected of ["(", "("]) {
    const token = next();
    if (token.type === "eof") return { kind: "incomplete" };
    if (token.type !== "punct" || token.value !== expected) {
      return { kind: "error", reason: "FILE_SCHEMA is not a list of schema names" };
    }
  }
  for (;;) {
    const token = next();
    if (token.type === "eof") return { kind: "incomplete" };
    if (token.type === "string") names.push(token.value.trim());
    else if (token.type === "punct" && token.value === ",") continue;
    else if (token.type === "punct" && token.value === ")") return { kind: "ok", names, end: token.end };
    else return { kind: "error", reason: "FILE_SCHEMA is not a list of schema names" };
  }
}
