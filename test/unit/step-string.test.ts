import { describe, expect, it } from "vitest";
import { decodeStepString } from "../../src/processing/step-string";

describe("decodeStepString", () => {
  it.each([
    ["plain text", "Holz", "Holz"],
    ["doubled quote", "it''s", "it's"],
    ["escaped backslash", "back\\\\slash", "back\\slash"],
    ["\\X2\\ UTF-16", "Etanch\\X2\\00E9\\X0\\it\\X2\\00E9\\X0\\", "Etanchéité"],
    ["\\X2\\ with several code units", "\\X2\\00F600DF\\X0\\e", "öße"],
    ["\\X2\\ surrogate pair", "\\X2\\D83DDE00\\X0\\", "😀"],
    ["\\X4\\ code points", "emoji\\X4\\0001F600\\X0\\!", "emoji😀!"],
    ["\\X\\ ISO 8859-1 byte", "c\\X\\E9d", "céd"],
    ["\\X\\ in the C1 range stays that code point", "C\\X\\8E", "C\u008e"],
    ["\\S\\ upper half", "e\\S\\if", "eéf"],
    ["\\P?\\ page switch then \\S\\", "\\PA\\\\S\\D", "Ä"],
    ["empty \\X2\\ run", "a\\X2\\\\X0\\b", "ab"],
  ])("decodes %s", (_what, raw, decoded) => {
    expect(decodeStepString(raw)).toBe(decoded);
  });

  it("keeps malformed escapes as written", () => {
    expect(decodeStepString("\\X2\\00E\\X0\\")).toBe("\\X2\\00E\\X0\\");
    expect(decodeStepString("\\Q\\x")).toBe("\\Q\\x");
    expect(decodeStepString("trailing\\")).toBe("trailing\\");
    expect(decodeStepString("\\X4\\FFFFFFFF\\X0\\")).toBe("\ufffd");
  });

  it("uses the selected ISO 8859 page for \\S\\ when the runtime has it", () => {
    // ISO 8859-2 0xB1 is ą; a runtime without that table falls back to ISO 8859-1 (±).
    expect(["ą", "±"]).toContain(decodeStepString("\\PB\\\\S\\1"));
  });
});
