import { describe, expect, it } from "vitest";
import { modelObjectKey, sanitizeFilename } from "../../src/ingest/sanitize-filename";

describe("sanitizeFilename", () => {
  it.each([
    ["../../etc/passwd", "passwd"],
    ["..\\..\\windows\\win.ini", "win.ini"],
    ["..", "model.ifc"],
    ["...", "model.ifc"],
    ["/", "model.ifc"],
    ["", "model.ifc"],
    [".hidden.ifc", "hidden.ifc"],
    ["a\u0000b\u001fc.ifc", "abc.ifc"],
    ["line\nbreak.ifc", "linebreak.ifc"],
    ["rtl\u202Egpj.ifc", "rtlgpj.ifc"],
    ["  spaced   out .ifc ", "spaced out .ifc"],
    ['we<i>rd:"na|me?*.ifc', "we_i_rd__na_me__.ifc"],
    ["Maison Béton.ifc", "Maison Béton.ifc"],
    ["%2e%2e%2fescape.ifc", "_2e_2e_2fescape.ifc"],
  ])("turns %j into %j", (raw, safe) => {
    expect(sanitizeFilename(raw)).toBe(safe);
  });

  it("falls back to model.ifc without a name", () => {
    expect(sanitizeFilename(undefined)).toBe("model.ifc");
  });

  it("bounds the name to 200 UTF-8 bytes without splitting a character", () => {
    const long = sanitizeFilename(`${"é".repeat(150)}.ifc`);
    expect(new TextEncoder().encode(long).byteLength).toBeLessThanOrEqual(200);
    expect(long).toBe("é".repeat(100));
  });

  it("builds keys of the documented layout", () => {
    expect(modelObjectKey("p1", "j1", "a.ifc")).toBe("projects/p1/models/j1/a.ifc");
  });
});
