import { describe, expect, it } from "vitest";
import { SNIFF_WINDOW_BYTES, sniffStep } from "../../src/ingest/step-sniffer";

const bytes = (text: string) => new TextEncoder().encode(text);
const header = (schema: string, before = "") =>
  `${before}ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\nFILE_NAME('a.ifc','2020-01-01T00:00:00',(''),(''),'x','y','');\nFILE_SCHEMA((${schema}));\nENDSEC;\nDATA;\n`;

describe("sniffStep", () => {
  it.each([
    "IFC2X3",
    "IFC4",
    "IFC4X1",
    "IFC4X2",
    "IFC4X3",
    "IFC4X3_ADD2",
    "IFC4X3_ADD1",
    "IFC4X3_RC1",
    "IFC4X3_RC2",
    "IFC4X3_RC3",
    "IFC4X3_RC4",
    "IFC2X3_TC1",
    "IFC2X_FINAL",
    "IFC2X2_FINAL",
    "ifc4",
  ])("accepts schema %s", (schema) => {
    expect(sniffStep(bytes(header(`'${schema}'`)), true)).toMatchObject({ kind: "ifc", schema: schema.toUpperCase() });
  });

  it.each(["CONFIG_CONTROL_DESIGN", "IFC5", "IFC2X", "IFC2X_DRAFT", "AUTOMOTIVE_DESIGN"])("refuses schema %s as unsupported", (schema) => {
    expect(sniffStep(bytes(header(`'${schema}'`)), true)).toEqual({ kind: "unsupported-schema", schema });
  });

  it("takes the first FILE_SCHEMA entry", () => {
    expect(sniffStep(bytes(header("'IFC4','IFC2X3'")), true)).toMatchObject({ schema: "IFC4" });
  });

  it("skips a UTF-8 BOM, leading whitespace and comments", () => {
    const text = `\uFEFF \r\n\t${header("'IFC4'").replace("HEADER;", "/* exported by a tool; FILE_SCHEMA(('X')) */ HEADER;")}`;
    expect(sniffStep(bytes(text), true)).toMatchObject({ kind: "ifc", schema: "IFC4" });
  });

  it("ignores FILE_SCHEMA inside a string", () => {
    const text = header("'IFC4'").replace("FILE_NAME('a.ifc'", "FILE_NAME('FILE_SCHEMA((''CONFIG''))'");
    expect(sniffStep(bytes(text), true)).toMatchObject({ kind: "ifc", schema: "IFC4" });
  });

  it("asks for more bytes while the header is incomplete", () => {
    const full = bytes(header("'IFC4'"));
    for (const cut of [0, 5, 13, 20, 60, full.indexOf(0x27, 150)]) {
      expect(sniffStep(full.subarray(0, cut), false)).toEqual({ kind: "need-more" });
    }
  });

  it("never mistakes a word cut at the end of the prefix for a whole one", () => {
    expect(sniffStep(bytes("ISO-10303-21;\nH"), false)).toEqual({ kind: "need-more" });
    expect(sniffStep(bytes("ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC4"), false)).toEqual({ kind: "need-more" });
  });

  it("calls a body without the magic not STEP", () => {
    expect(sniffStep(bytes("PK\u0003\u0004 zip"), false)).toMatchObject({ kind: "not-step" });
    expect(sniffStep(bytes("/* unfinished"), true)).toMatchObject({ kind: "not-step" });
    expect(sniffStep(new Uint8Array(0), true)).toMatchObject({ kind: "not-step" });
  });

  it("calls a header without FILE_SCHEMA invalid once the body or the window ends", () => {
    const text = "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\n";
    expect(sniffStep(bytes(text), true)).toMatchObject({ kind: "invalid-header" });
    const padded = bytes(`${text}/*${" ".repeat(SNIFF_WINDOW_BYTES)}*/`);
    expect(sniffStep(padded, false)).toMatchObject({ kind: "invalid-header" });
    expect(sniffStep(bytes(`${text}ENDSEC;\n`), false)).toMatchObject({ kind: "invalid-header", reason: expect.stringContaining("no FILE_SCHEMA") });
  });

  it("rejects a magic not followed by HEADER", () => {
    expect(sniffStep(bytes("ISO-10303-21;\nDATA;\n#1=IFCWALL();\n"), true)).toMatchObject({ kind: "invalid-header" });
  });

  it("rejects a FILE_SCHEMA that is not a list of names", () => {
    expect(sniffStep(bytes("ISO-10303-21;\nHEADER;\nFILE_SCHEMA('IFC4');\nENDSEC;"), true)).toMatchObject({ kind: "invalid-header" });
    expect(sniffStep(bytes("ISO-10303-21;\nHEADER;\nFILE_SCHEMA((IFC4));\nENDSEC;"), true)).toMatchObject({ kind: "invalid-header" });
    expect(sniffStep(bytes("ISO-10303-21;\nHEADER;\nFILE_SCHEMA(());\nENDSEC;"), true)).toMatchObject({ kind: "invalid-header" });
  });

  it("handles an unterminated string in the header", () => {
    expect(sniffStep(bytes("ISO-10303-21;\nHEADER;\nFILE_NAME('abc"), true)).toMatchObject({ kind: "invalid-header" });
  });
});
