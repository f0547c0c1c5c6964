import { describe, expect, it } from "vitest";
import { takeCensus } from "../../src/processing/entity-census";

function source(lines: Record<string, number[]>, maxId: number, winner: Record<number, string> = {}) {
  return {
    types: Object.keys(lines),
    maxId,
    forEachId: (type: string, visit: (id: number) => void) => (lines[type] ?? []).forEach(visit),
    typeOfDuplicate: (id: number) => winner[id] ?? "?",
  };
}

describe("takeCensus", () => {
  it("counts lines per type when every id is defined once", () => {
    const census = takeCensus(source({ WALL: [1, 2], DOOR: [3] }, 3));
    expect(census.entityCount).toBe(3);
    expect(Object.fromEntries(census.counts)).toEqual({ WALL: 2, DOOR: 1 });
  });

  it("counts an id defined more than once as one instance, under the type the reader resolves", () => {
    const census = takeCensus(source({ POINT: [1, 2, 1, 2], FACE: [3, 3, 1] }, 3, { 1: "FACE", 2: "POINT", 3: "FACE" }));
    expect(census.entityCount).toBe(3);
    expect(Object.fromEntries(census.counts)).toEqual({ POINT: 1, FACE: 2 });
  });

  it("falls back to a set for very sparse ids and tolerates ids outside the reported range", () => {
    const sparse = takeCensus(source({ A: [1, 4_000_000_000, 4_000_000_000] }, 4_000_000_000, { 4_000_000_000: "A" }));
    expect(sparse.entityCount).toBe(2);
    expect(sparse.counts.get("A")).toBe(2);
    const outliers = takeCensus(source({ A: [1, 50, 50] }, 10, { 50: "A" }));
    expect(outliers.entityCount).toBe(2);
    expect(outliers.counts.get("A")).toBe(2);
  });
});
