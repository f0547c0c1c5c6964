import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { summaryObjectKey } from "../../src/jobs/record";
import { formatBytes, tooLargeError } from "../../src/processing/processor";
import { normaliseCounts, orderStoreys, parseStepReal } from "../../src/processing/summary";
import { webIfcBudget } from "../../src/processing/web-ifc-budget";
import { TEST_JWT_SECRET } from "../support/constants";

const MiB = 1024 * 1024;

describe("summary helpers", () => {
  it("upper-cases, merges, orders and drops empty counts", () => {
    expect(normaliseCounts([["IfcWall", 2], ["IfcDoor", 1], ["IFCWALL", 1], ["IfcRoof", 0]])).toEqual({ IFCDOOR: 1, IFCWALL: 3 });
    expect(Object.keys(normaliseCounts([["B", 1], ["A", 1]]))).toEqual(["A", "B"]);
  });

  it("orders storeys by elevation, unknown elevations last, then by name", () => {
    const storeys = [
      { name: "Roof", elevation: null },
      { name: "B", elevation: 3 },
      { name: "A", elevation: 3 },
      { name: "Zero", elevation: 0 },
      { name: "Attic", elevation: null },
    ];
    expect(orderStoreys(storeys).map((s) => s.name)).toEqual(["Zero", "A", "B", "Attic", "Roof"]);
  });

  it("parses STEP reals", () => {
    expect(parseStepReal("0.")).toBe(0);
    expect(parseStepReal("-2.5E+03")).toBe(-2500);
    expect(parseStepReal(2.7)).toBe(2.7);
    expect(parseStepReal(null)).toBeNull();
    expect(parseStepReal("")).toBeNull();
    expect(parseStepReal("abc")).toBeNull();
  });

  it("puts summary.json beside the model, unless the model already has that name", () => {
    expect(summaryObjectKey("projects/p/models/j/duplex.ifc")).toBe("projects/p/models/j/summary.json");
    expect(summaryObjectKey("projects/p/models/j/summary.json")).toBe("projects/p/models/j/model-summary.json");
  });

  it("explains size limits in people's units", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(3 * MiB)).toBe("3.0 MiB");
    expect(tooLargeError(200 * MiB, 100 * MiB).message).toMatch(/200\.0 MiB.*100\.0 MiB/);
  });
});

describe("web-ifc budget", () => {
  it("sizes web-ifc for the default 96 MiB", () => {
    const budget = webIfcBudget(96 * MiB);
    expect(budget.tapeSize).toBe(1 * MiB);
    expect(budget.memoryLimit).toBe(16 * MiB);
    expect(budget.maxModelBytes).toBeGreaterThan(102_429_150); // the 100 MB benchmark model fits
    expect(budget.recycleAboveBytes).toBe(48 * MiB);
  });

  it("scales with the budget and never goes negative", () => {
    expect(webIfcBudget(256 * MiB).maxModelBytes).toBeGreaterThan(webIfcBudget(96 * MiB).maxModelBytes);
    expect(webIfcBudget(1024 * MiB).memoryLimit).toBe(64 * MiB);
    expect(webIfcBudget(8 * MiB).maxModelBytes).toBe(0);
  });
});

describe("processing configuration", () => {
  const base = { ENVIRONMENT: "test", AUTH_JWT_SECRET: TEST_JWT_SECRET } as const;
  it("defaults to the stream engine starting at once; web-ifc gets a 96 MiB budget and a second's grace, the mock a quarter second", () => {
    const config = loadConfig({ ...base });
    expect(config.processing).toMatchObject({ processor: "stream", memoryBytes: 96 * MiB, maxAttempts: 5, startDelayMs: 0, mock: { outcome: "succeed", delayMs: 0 } });
    expect(loadConfig({ ...base, PROCESSOR: "mock" }).processing.startDelayMs).toBe(250);
    expect(loadConfig({ ...base, PROCESSOR: "web-ifc" }).processing).toMatchObject({ processor: "web-ifc", startDelayMs: 1000 });
    expect(loadConfig({ ...base, PROCESSOR: "web-ifc", PROCESSING_START_DELAY_MS: "0" }).processing.startDelayMs).toBe(0);
    expect(loadConfig({ ...base, PROCESSING_START_DELAY_MS: "250" }).processing.startDelayMs).toBe(250);
  });
  it("names every bad processing setting", () => {
    expect(() =>
      loadConfig({ ...base, PROCESSOR: "ifcopenshell", PROCESSING_MEMORY_BYTES: "1000", MOCK_PROCESSOR_OUTCOME: "explode" }),
    ).toThrow(/PROCESSOR.*PROCESSING_MEMORY_BYTES.*MOCK_PROCESSOR_OUTCOME/);
  });
});
