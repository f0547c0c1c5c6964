// The console's pure logic (public/js, no DOM), run in Node; the browser tests cover the rest.
import { describe, expect, it } from "vitest";
import { decodeClaims, defaultProject } from "../../public/js/auth.js";
import { topEntityTypes } from "../../public/js/chart.js";
import { formatBytes, formatElevation, formatRate, percent, RateMeter } from "../../public/js/format.js";
import { sortMaterials } from "../../public/js/materials-table.js";
import { backoffMs, completionList, isRetryable, partRange, planParts } from "../../public/js/parts.js";

const MiB = 1024 * 1024;
const session = { size: 20 * MiB + 5, partSize: 8 * MiB, partCount: 3 };

describe("upload parts", () => {
  it("gives every part partSize bytes but the last, which takes the rest", () => {
    expect(partRange(session.size, session.partSize, 1)).toEqual({ start: 0, end: 8 * MiB });
    expect(partRange(session.size, session.partSize, 3)).toEqual({ start: 16 * MiB, end: 20 * MiB + 5 });
  });

  it("resumes with the parts the session does not list, counting the listed bytes as done", () => {
    const plan = planParts(session, [{ partNumber: 2, size: 8 * MiB, etag: '"b"' }]);
    expect(plan.missing).toEqual([1, 3]);
    expect(plan.doneBytes).toBe(8 * MiB);
    expect([...plan.done]).toEqual([[2, '"b"']]);
  });

  it("sends again a listed part of the wrong size, without an ETag, or out of range", () => {
    const plan = planParts(session, [
      { partNumber: 1, size: 5, etag: '"cut"' },
      { partNumber: 2, size: 8 * MiB, etag: "" },
      { partNumber: 4, size: 5, etag: '"x"' },
      { partNumber: 3, size: 4 * MiB + 5, etag: '"c"' },
    ]);
    expect(plan.missing).toEqual([1, 2]);
    expect(plan.doneBytes).toBe(4 * MiB + 5);
  });

  it("completes with every part in order", () => {
    expect(completionList(new Map([[3, "c"], [1, "a"], [2, "b"]]))).toEqual([
      { partNumber: 1, etag: "a" },
      { partNumber: 2, etag: "b" },
      { partNumber: 3, etag: "c" },
    ]);
  });

  it("retries lost connections, timeouts, throttling and server faults, not refusals", () => {
    expect([0, 408, 429, 500, 503].every(isRetryable)).toBe(true);
    expect([400, 401, 403, 404, 409, 413, 415].some(isRetryable)).toBe(false);
  });

  it("waits a full-jitter backoff, capped at 10 s", () => {
    expect(backoffMs(1, () => 0.5)).toBe(500);
    expect(backoffMs(3, () => 0.999)).toBe(3996);
    expect(backoffMs(20, () => 1)).toBe(10_000);
    expect(backoffMs(2, () => 0)).toBe(0);
  });
});

describe("formatting", () => {
  it("shows sizes in decimal units and rates in MB/s", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(2_380_763)).toBe("2.4 MB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.4 GB");
    expect(formatBytes(Number.NaN)).toBe("?");
    expect(formatRate(12_345_678)).toBe("12.3 MB/s");
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 0)).toBe(0);
  });

  it("rounds storey elevations to the millimetre", () => {
    expect(formatElevation(3.100000000000378)).toBe("3.1");
    expect(formatElevation(-1.25)).toBe("-1.25");
    expect(formatElevation(null)).toBe("—");
  });

  it("measures the rate over a sliding window", () => {
    const meter = new RateMeter(1000);
    expect(meter.rate()).toBe(0);
    meter.add(0, 0);
    meter.add(500, 5_000_000);
    expect(meter.rate()).toBe(10_000_000);
    // Old samples leave the window: the rate follows the recent speed.
    meter.add(3000, 5_000_000);
    meter.add(3500, 6_000_000);
    expect(meter.rate()).toBe(2_000_000);
  });
});

describe("summary views", () => {
  it("charts the most frequent entity types, ties by name, zero counts left out", () => {
    expect(topEntityTypes({ IFCWALL: 3, IFCDOOR: 3, IFCSLAB: 9, IFCROOF: 0, IFCBEAM: 1 }, 3)).toEqual([
      { name: "IFCSLAB", count: 9 },
      { name: "IFCDOOR", count: 3 },
      { name: "IFCWALL", count: 3 },
    ]);
  });

  it("sorts materials by any column, ties by express id", () => {
    const materials = [
      { expressId: 3, name: "Brick", associatedObjects: 4 },
      { expressId: 1, name: "Concrete", associatedObjects: 9 },
      { expressId: 2, name: "Air", associatedObjects: 4 },
    ];
    expect(sortMaterials(materials, "associatedObjects", "descending").map((m) => m.expressId)).toEqual([1, 2, 3]);
    expect(sortMaterials(materials, "name", "ascending").map((m) => m.name)).toEqual(["Air", "Brick", "Concrete"]);
    expect(sortMaterials(materials, "expressId", "descending").map((m) => m.expressId)).toEqual([3, 2, 1]);
  });
});

describe("sign-in", () => {
  const token = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

  it("reads the token's claims to name the project it grants", () => {
    expect(defaultProject(decodeClaims(token({ sub: "ana", projects: ["demo"] })))).toBe("demo");
    expect(defaultProject(decodeClaims(token({ projects: ["*"] })))).toBeUndefined();
    expect(defaultProject(decodeClaims(token({ projects: ["a", "b"] })))).toBeUndefined();
    expect(decodeClaims(token({ sub: "Zoë" })).sub).toBe("Zoë");
  });

  it("treats a token that is no JWT as granting nothing", () => {
    expect(decodeClaims("not-a-jwt")).toEqual({});
    expect(decodeClaims("a.%%%.c")).toEqual({});
  });
});
