import { describe, expect, it } from "vitest";
import { countMaterialAssociations } from "../../src/processing/material-associations";

const materials = [
  { expressId: 1, name: "Brick" },
  { expressId: 2, name: "Air" },
  { expressId: 3, name: "Unused" },
];

describe("countMaterialAssociations", () => {
  it("counts direct associations per material", () => {
    const result = countMaterialAssociations({
      materials,
      definitions: new Map(),
      associations: [
        { relatingMaterial: 1, relatedObjects: [100, 101] },
        { relatingMaterial: 2, relatedObjects: [100] },
      ],
    });
    expect(result).toEqual([
      { expressId: 1, name: "Brick", associatedObjects: 2 },
      { expressId: 2, name: "Air", associatedObjects: 1 },
      { expressId: 3, name: "Unused", associatedObjects: 0 },
    ]);
  });

  it("follows layer set usage -> layer set -> layers -> materials and counts each object once", () => {
    const definitions = new Map<number, number[]>([
      [10, [11]], // usage -> set
      [11, [12, 13, 14]], // set -> layers
      [12, [1]],
      [13, [2]],
      [14, [1]], // a second layer of the same material
      [20, [1, 2]], // a material list
    ]);
    const result = countMaterialAssociations({
      materials,
      definitions,
      associations: [
        { relatingMaterial: 10, relatedObjects: [100, 101] },
        { relatingMaterial: 11, relatedObjects: [101, 102] }, // 101 again: counted once
        { relatingMaterial: 20, relatedObjects: [103] },
        { relatingMaterial: null, relatedObjects: [104] },
        { relatingMaterial: 999, relatedObjects: [105] }, // reaches nothing known
      ],
    });
    expect(result.map((m) => m.associatedObjects)).toEqual([4, 4, 0]);
  });

  it("survives cycles and shares work between associations with the same target", () => {
    const definitions = new Map<number, number[]>([
      [10, [11]],
      [11, [10, 1]],
    ]);
    const result = countMaterialAssociations({
      materials,
      definitions,
      associations: [
        { relatingMaterial: 10, relatedObjects: [1000] },
        { relatingMaterial: 10, relatedObjects: [1001] },
      ],
    });
    expect(result[0]?.associatedObjects).toBe(2);
  });

  it("orders materials by expressId", () => {
    const result = countMaterialAssociations({
      materials: [...materials].reverse(),
      definitions: new Map(),
      associations: [],
    });
    expect(result.map((m) => m.expressId)).toEqual([1, 2, 3]);
  });
});
