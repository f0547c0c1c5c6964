import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StepValue } from "../../src/processing/step-values";
import { encode, stepFile } from "../support/model-stream";
import { tokenise } from "../support/step-recorder";

/** A STEP value as text, and the value the parser must answer for it. */
interface Generated {
  text: string;
  value: StepValue;
}

const separator = fc.constantFrom("", "", "", " ", "\n", "\r\n", "\t", "/* c */", "/* ; ' ( */", "/*\n*/");

const stringPiece = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."abcXYZ019 ,.;:()#$*-_=/\"".split("")), maxLength: 8 }).map((s) => ({ text: s, decoded: s })),
  fc.constant({ text: "''", decoded: "'" }),
  fc.constant({ text: "\\\\", decoded: "\\" }),
  fc.constant({ text: "\\X2\\00E9\\X0\\", decoded: "é" }),
  fc.constant({ text: "\\X2\\00FC00DF\\X0\\", decoded: "üß" }),
  fc.constant({ text: "\\X\\E9", decoded: "é" }),
  fc.constant({ text: "\\S\\D", decoded: "Ä" }),
  fc.constant({ text: "ø€", decoded: "ø€" }),
);

const stringValue: fc.Arbitrary<Generated> = fc.array(stringPiece, { maxLength: 6 }).map((pieces) => ({
  text: `'${pieces.map((p) => p.text).join("")}'`,
  value: { t: "string", value: pieces.map((p) => p.decoded).join(""), truncated: false, invalidUtf8: false },
}));

const numberValue: fc.Arbitrary<Generated> = fc
  .tuple(fc.integer({ min: -100000, max: 100000 }), fc.constantFrom("", ".", ".5", ".25E+03", ".E-2"))
  .map(([whole, tail]) => {
    const text = `${whole}${tail}`;
    return { text, value: { t: "number", value: Number(text.replace(/\.E/, "E").replace(/\.$/, "")) } };
  });

const scalar: fc.Arbitrary<Generated> = fc.oneof(
  fc.constant<Generated>({ text: "$", value: null }),
  fc.constant<Generated>({ text: "*", value: { t: "derived" } }),
  fc.integer({ min: 1, max: 2 ** 40 }).map((id): Generated => ({ text: `#${id}`, value: { t: "ref", id } })),
  fc.constantFrom("T", "F", "U", "NOTDEFINED", "AREA").map((e): Generated => ({ text: `.${e}.`, value: { t: "enum", value: e } })),
  fc.constantFrom("0", "2A", "3FF0").map((b): Generated => ({ text: `"${b}"`, value: { t: "binary", value: b } })),
  stringValue,
  numberValue,
);

const { value: anyValue } = fc.letrec<{ value: Generated; list: Generated; typed: Generated }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("list"), tie("typed")),
  list: fc.tuple(fc.array(tie("value"), { maxLength: 4 }), separator).map(([items, sep]) => ({
    text: `(${sep}${items.map((i) => i.text).join(`,${sep}`)})`,
    value: items.map((i) => i.value),
  })),
  typed: fc.tuple(fc.constantFrom("IFCLABEL", "IFCREAL", "IfcText"), tie("value")).map(([type, inner]) => ({
    text: `${type}(${inner.text})`,
    value: { t: "typed", type: type.toUpperCase(), args: [inner.value] },
  })),
}));

const entityType = fc.constantFrom("IFCWALL", "IFCCARTESIANPOINT", "IFCMATERIAL", "IFCPROPERTYSINGLEVALUE", "IfcSlab", "IFC4X3TYPE_2");

const entities = fc.uniqueArray(
  fc.record({ id: fc.integer({ min: 1, max: 2 ** 31 }), type: entityType, args: fc.array(anyValue, { maxLength: 5 }), sep: separator }),
  { selector: (e) => e.id, minLength: 1, maxLength: 12 },
);

function render(list: { id: number; type: string; args: Generated[]; sep: string }[]): string {
  return list.map((e) => `${e.sep}#${e.id}${e.sep}=${e.sep}${e.type}(${e.args.map((a) => a.text).join(`,${e.sep}`)})${e.sep};`).join("\n");
}

describe("tokenising valid STEP text cut at arbitrary chunk boundaries", () => {
  it("yields the same entities, arguments, references and header as one piece, and what was written", () => {
    fc.assert(
      fc.property(entities, fc.array(fc.nat(), { maxLength: 40 }), (list, rawCuts) => {
        const bytes = encode(stepFile(render(list), "IFC4X3_ADD2"));
        const cuts = rawCuts.map((c) => c % (bytes.length + 1));
        const whole = tokenise(bytes);
        const pieces = tokenise(bytes, cuts);
        expect(whole.problems).toEqual([]);
        expect(pieces.entities).toEqual(whole.entities);
        expect(pieces.references).toEqual(whole.references);
        expect(pieces.headers).toEqual(whole.headers);
        expect(pieces.problems).toEqual(whole.problems);
        expect(whole.entities.map((e) => [e.id, e.type])).toEqual(list.map((e) => [e.id, e.type.toUpperCase()]));
        expect(whole.entities.map((e) => e.args)).toEqual(list.map((e) => e.args.map((a) => a.value)));
      }),
      { numRuns: 300 },
    );
  });

  it("cut into single bytes gives the same result as one piece", () => {
    fc.assert(
      fc.property(entities, (list) => {
        const bytes = encode(stepFile(render(list)));
        const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
        const { entities: a, headers: b, references: c, problems: d } = tokenise(bytes, everyByte);
        const whole = tokenise(bytes);
        expect({ a, b, c, d }).toEqual({ a: whole.entities, b: whole.headers, c: whole.references, d: whole.problems });
      }),
      { numRuns: 50 },
    );
  });

  it("reports the line each instance starts on", () => {
    fc.assert(
      fc.property(entities, fc.array(fc.nat(), { maxLength: 10 }), (list, cuts) => {
        const text = stepFile(render(list));
        const lines = tokenise(encode(text), cuts).entities.map((e) => e.line);
        const expected = list.map((e) => {
          const at = text.indexOf(`#${e.id}${e.sep}=`);
          return text.slice(0, at).split("\n").length;
        });
        expect(lines).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
