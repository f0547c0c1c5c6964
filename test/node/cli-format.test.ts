import { describe, expect, it } from "vitest";
import type { Job, ModelSummary } from "../../src/client/index.ts";
import { describeJob, formatBytes, formatDuration, formatRate, jobRow, summaryRows } from "../../src/cli/format.ts";

const summary: ModelSummary = {
  schema: "IFC4",
  entityCount: 44249,
  header: { fileName: "a.ifc", timeStamp: null, originatingSystem: null, preprocessorVersion: null, description: [] },
  project: { globalId: "0x", name: "House" },
  storeys: [
    { globalId: "1", name: "EG", elevation: 0 },
    { globalId: "2", name: "Roof", elevation: null },
  ],
  counts: { IFCWALL: 13, IFCDOOR: 4, IFCSLAB: 13, IFCSPACE: 2 },
  materials: [
    { expressId: 1, name: "Holz", associatedObjects: 3 },
    { expressId: 2, name: "Beton", associatedObjects: 9 },
  ],
  file: { size: 2_380_763, sha256: "a".repeat(64) },
  validation: { errors: [], warnings: [], unknownTypes: {}, duplicateIds: 0, danglingReferences: 0, truncated: false, schemaTable: "IFC4", errorCount: 0, warningCount: 0 },
  processor: { engine: "web-ifc", version: "0.0.78", durationMs: 1500 },
};

const job: Job = {
  jobId: "6f1c2b9e-4d0a-4f7e-9a51-2a8c3e7d9b10",
  projectId: "demo",
  status: "processing",
  file: { name: "a.ifc", size: 2_380_763, sha256: "a".repeat(64), schema: "IFC4" },
  attempts: 2,
  notifications: [],
  createdAt: "2026-11-30T01:02:03.456Z",
  updatedAt: "2026-11-30T01:02:04.000Z",
};

describe("CLI formatting", () => {
  it("writes sizes, rates and durations as people read them", () => {
    expect([formatBytes(999), formatBytes(2_380_763), formatBytes(1_073_741_824), formatBytes(512_000_000)]).toEqual(["999 B", "2.4 MB", "1.1 GB", "512 MB"]);
    expect(formatRate(50_000_000, 2000)).toBe("25.0 MB/s");
    expect(formatRate(1, 0)).toBe("- MB/s");
    expect([formatDuration(420), formatDuration(12_400), formatDuration(75_000), formatDuration(3_900_000)]).toEqual(["0.4s", "12s", "1m15s", "1h05m"]);
  });

  it("describes a job's processing progress and attempts", () => {
    expect(describeJob(job)).toBe("a.ifc: processing, attempt 2");
    expect(describeJob({ ...job, attempts: 1, progress: { phase: "parsing", bytesDone: 50, bytesTotal: 200 } })).toBe("a.ifc: processing 25% (parsing)");
  });

  it("summarises schema, entities, storeys, top materials, top entity types and validation", () => {
    const rows = Object.fromEntries(summaryRows(summary, 2));
    expect(rows).toMatchObject({
      Schema: "IFC4",
      Entities: "44,249",
      Project: "House",
      Storeys: "2: EG (0), Roof",
      "Top materials": "Beton (9), Holz (3)",
      "Top entity types": "IFCSLAB 13, IFCWALL 13",
      Validation: "0 errors, 0 warnings, 0 unknown types, 0 duplicate ids, 0 dangling references",
    });
    const validated = Object.fromEntries(
      summaryRows({ ...summary, validation: { ...summary.validation, warnings: [{ line: 3, code: "x", message: "y" }], unknownTypes: { IFCFOO: 1 }, danglingReferences: 2, warningCount: 1 } }),
    );
    expect(validated.Validation).toBe("0 errors, 1 warnings, 1 unknown types, 0 duplicate ids, 2 dangling references");
  });

  it("lists eight storeys of a large model and counts the rest, including those the job's copy left out", () => {
    const storeys = Array.from({ length: 1000 }, (_, i) => ({ globalId: `g${i}`, name: `Level ${i}`, elevation: i * 3 }));
    const rows = Object.fromEntries(summaryRows({ ...summary, storeys, truncated: { storeys: 1508, materials: summary.materials.length } }));
    expect(rows.Storeys).toBe("1,508: Level 0 (0), Level 1 (3), Level 2 (6), Level 3 (9), Level 4 (12), Level 5 (15), Level 6 (18), Level 7 (21), and 1,500 more");
  });

  it("adds up materials of the same name, and says when the job's copy holds only some of them", () => {
    const materials = [
      { expressId: 1, name: "Stud", associatedObjects: 63 },
      { expressId: 2, name: "Stud", associatedObjects: 63 },
      { expressId: 3, name: "Brick", associatedObjects: 100 },
    ];
    expect(Object.fromEntries(summaryRows({ ...summary, materials }))["Top materials"]).toBe("Stud (126 in 2 materials), Brick (100)");
    const cut = Object.fromEntries(summaryRows({ ...summary, materials, truncated: { storeys: summary.storeys.length, materials: 9 } }));
    expect(cut["Top materials"]).toBe("Stud (126 in 2 materials), Brick (100) (first 3 of 9 materials)");
  });

  it("lists a job as one row", () => {
    expect(jobRow(job)).toEqual([job.jobId, "processing", "a.ifc", "2.4 MB", "2026-11-30 01:02:03Z"]);
  });
});
