import { describe, expect, it } from "vitest";
import { ProcessingError } from "../../src/processing/processor";
import { streamProcessor } from "../../src/processing/stream";
import type { ModelSummary } from "../../src/processing/summary";
import { MAX_ISSUES } from "../../src/processing/validation-collector";
import { bytesModel, encode, stepFile } from "../support/model-stream";

const summarise = (bytes: Uint8Array, chunkBytes?: number): Promise<ModelSummary> => streamProcessor().process(bytesModel(bytes, chunkBytes));

async function failure(bytes: Uint8Array): Promise<ProcessingError> {
  const error: unknown = await summarise(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ProcessingError)) throw new Error(`expected a ProcessingError, got ${String(error)}`);
  return error;
}

const concat = (...parts: (string | Uint8Array)[]): Uint8Array => {
  const arrays = parts.map((p) => (typeof p === "string" ? encode(p) : p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
};

/** A STEP file whose DATA section is `data` (bytes allowed), split around it. */
const model = (data: string | Uint8Array, schema = "IFC4"): Uint8Array => {
  const [before, after] = stepFile("\u0000", schema).split("\u0000");
  return concat(before ?? "", data, after ?? "");
};

describe("the stream engine's validation report", () => {
  it("counts an id defined twice once, under its first definition, and reports it", async () => {
    const summary = await summarise(model("#1=IFCWALL($);\n#2=IFCSLAB($);\n#1=IFCDOOR($);\n#1=IFCDOOR($);\n"));
    expect(summary.entityCount).toBe(2);
    expect(summary.counts).toEqual({ IFCSLAB: 1, IFCWALL: 1 });
    expect(summary.validation.duplicateIds).toBe(1);
    expect(summary.validation.warnings).toEqual([{ line: 10, code: "duplicate_id", message: expect.stringMatching(/#1 is defined more than once/) }]);
  });

  it("counts distinct references to ids the file never defines", async () => {
    const summary = await summarise(model("#1=IFCPOLYLOOP((#2,#3,#9,#9));\n#2=IFCCARTESIANPOINT((0.,0.));\n#3=IFCFACE((#1,#10));\n"));
    expect(summary.validation.danglingReferences).toBe(2);
  });

  it("skips a statement it cannot read with a warning carrying its line, and counts the rest", async () => {
    const summary = await summarise(model("#1=IFCWALL($);\n#=IFCWALL($);\n#3 IFCWALL($);\n#4=IFCSLAB($);\n"));
    expect(summary.entityCount).toBe(2);
    expect(summary.validation.warnings.map((w) => [w.line, w.code])).toEqual([
      [9, "missing_id"],
      [10, "missing_equals"],
    ]);
  });

  it("keeps the first entries of a long list, the totals of all, and says it cut", async () => {
    const lines = Array.from({ length: MAX_ISSUES + 50 }, (_, i) => `#${i + 1}=IFCWALL(#${i + 100000});`).join("\n");
    const duplicates = Array.from({ length: MAX_ISSUES + 50 }, (_, i) => `#${i + 1}=IFCWALL($);`).join("\n");
    const summary = await summarise(model(`${lines}\n${duplicates}\n`));
    expect(summary.validation).toMatchObject({ duplicateIds: MAX_ISSUES + 50, danglingReferences: MAX_ISSUES + 50, warningCount: MAX_ISSUES + 50, truncated: true });
    expect(summary.validation.warnings).toHaveLength(MAX_ISSUES);
  });

  it("judges unknown types against the table of the file's schema, and says which", async () => {
    const data = "#1=IFCWALL($);\n#2=IFCROAD($);\n#3=IFCMADEUPTYPE($);\n";
    expect((await summarise(model(data, "IFC2X3"))).validation).toMatchObject({ schemaTable: "IFC2X3", unknownTypes: { IFCMADEUPTYPE: 1, IFCROAD: 1 } });
    expect((await summarise(model(data, "IFC4X3_ADD2"))).validation).toMatchObject({ schemaTable: "IFC4X3", unknownTypes: { IFCMADEUPTYPE: 1 } });
    expect((await summarise(model(data, "IFC2X_FINAL"))).validation).toMatchObject({ schemaTable: "IFC2X3" });
    const older = await summarise(model(data, "IFC2X2_FINAL"));
    expect(older.validation).toMatchObject({ schemaTable: null, unknownTypes: {} });
    expect(older.entityCount).toBe(3);
  });

  it("reads header fields, the project and storeys ordered by elevation", async () => {
    const summary = await summarise(
      model(
        [
          "#1=IFCPROJECT('2O2Fr$t4X7Zf8NOew3FLOH',$,'Tower \\X2\\00C4\\X0\\',$,$,$,$,$,$);",
          "#2=IFCBUILDINGSTOREY('1',$,'Roof',$,$,$,$,$,.ELEMENT.,9.5);",
          "#3=IFCBUILDINGSTOREY('2',$,'Ground',$,$,$,$,$,.ELEMENT.,IFCLENGTHMEASURE(0.));",
          "#4=IFCBUILDINGSTOREY('3',$,$,$,$,$,$,$,.ELEMENT.,$);",
        ].join("\n"),
      ),
    );
    expect(summary.header).toEqual({ fileName: "model.ifc", timeStamp: "2026-01-01T00:00:00", originatingSystem: "sys", preprocessorVersion: "pre", description: ["ViewDefinition [CoordinationView]"] });
    expect(summary.project).toEqual({ globalId: "2O2Fr$t4X7Zf8NOew3FLOH", name: "Tower Ä" });
    expect(summary.storeys).toEqual([
      { globalId: "2", name: "Ground", elevation: 0 },
      { globalId: "1", name: "Roof", elevation: 9.5 },
      { globalId: "3", name: "", elevation: null },
    ]);
  });
});

describe("hostile models end as a summary or a clean invalid_step", () => {
  it("reads a material nested a million lists deep", async () => {
    const depth = 1_000_000;
    const summary = await summarise(model(`#1=IFCMATERIAL(${"(".repeat(depth)}${")".repeat(depth)});\n#2=IFCWALL(${"(".repeat(depth)}${")".repeat(depth)});\n`));
    expect(summary.entityCount).toBe(2);
    expect(summary.materials).toEqual([{ expressId: 1, name: "", associatedObjects: 0 }]);
  });

  it("cuts a 5 MB material name to the summary's limit and says so", async () => {
    const name = "A".repeat(5 * 1024 * 1024);
    const summary = await summarise(model(`#1=IFCMATERIAL('${name}',$,$);\n#2=IFCRELASSOCIATESMATERIAL('x',$,$,$,(#3),#1);\n#3=IFCWALL($);\n`));
    expect(summary.materials).toEqual([{ expressId: 1, name: "A".repeat(4096), associatedObjects: 1 }]);
    expect(summary.validation.warnings).toEqual([{ line: 8, code: "string_truncated", message: expect.any(String) }]);
  });

  it("fails NUL bytes outside strings with invalid_step naming the line, and keeps them inside strings", async () => {
    const error = await failure(model(concat("#1=IFCWALL($);\n#2=IFCWALL(", new Uint8Array([0, 0]), ");\n")));
    expect(error).toMatchObject({ code: "invalid_step", retryable: false });
    expect(error.message).toMatch(/line 9: control byte 0x00 outside a string/);
    const summary = await summarise(model(concat("#1=IFCMATERIAL('a", new Uint8Array([0]), "b');\n")));
    expect(summary.materials[0]?.name).toBe("a\u0000b");
  });

  it("replaces invalid UTF-8 in a kept string and warns", async () => {
    const summary = await summarise(model(concat("#1=IFCMATERIAL('Beton ", new Uint8Array([0xff, 0xc3]), "',$,$);\n")));
    expect(summary.materials[0]?.name).toBe("Beton \ufffd\ufffd");
    expect(summary.validation.warnings.map((w) => w.code)).toEqual(["invalid_utf8"]);
  });

  it.each([
    ["an instance id of 2^53", "#9007199254740993=IFCWALL($);\n", /line 8: an instance id above 9007199254740991/],
    ["a reference to 2^53", "#1=IFCWALL(#9007199254740993);\n", /line 8: a reference above/],
    ["an unterminated string", "#1=IFCWALL('open);\n", /line 8: the file ends inside a string opened on line 8/],
    ["an unbalanced parenthesis", "#1=IFCWALL(($);\n", /line 8: a '\(' without its '\)'/],
    ["a closing parenthesis too many", "#1=IFCWALL($));\n", /line 8: a '\)' without its '\('/],
  ])("fails %s with invalid_step and its line", async (_what, data, message) => {
    const error = await failure(model(data));
    expect(error).toMatchObject({ code: "invalid_step", retryable: false });
    expect(error.message).toMatch(message);
  });

  it("fails a file cut short, an unterminated comment and an empty DATA section with invalid_step", async () => {
    const whole = model("#1=IFCWALL($);\n#2=IFCWALL($);\n");
    expect((await failure(whole.subarray(0, whole.length - 30))).message).toMatch(/ends before END-ISO-10303-21/);
    expect((await failure(encode("ISO-10303-21;\nHEADER;\n/* never closed\n"))).message).toMatch(/line 3: the file ends inside a comment opened on line 3/);
    expect((await failure(model(""))).message).toMatch(/no entity instances/);
  });

  it("reads models concatenated into one file, as test.ifc is, and separators between them", async () => {
    const one = stepFile("#1=IFCWALL($);\n#2=IFCSLAB(#1);");
    const summary = await summarise(encode(`${one}------\n${one}`), 5);
    expect(summary.entityCount).toBe(2);
    expect(summary.validation.duplicateIds).toBe(2);
  });
});
