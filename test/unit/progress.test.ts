import { describe, expect, it } from "vitest";
import { type ProcessingProgress, progressRecorder } from "../../src/processing/progress";

describe("progressRecorder", () => {
  it("records the first update, every 5 % and the end, and nothing in between", () => {
    const seen: ProcessingProgress[] = [];
    const report = progressRecorder("reading", (p) => seen.push(p), () => 0);
    for (let done = 1; done <= 1000; done++) report(done, 1000);
    expect(seen.map((p) => p.bytesDone)).toEqual([1, ...Array.from({ length: 20 }, (_, i) => 51 + i * 50).filter((b) => b <= 1000), 1000]);
    expect(seen.every((p, i) => i === 0 || p.bytesDone - (seen[i - 1]?.bytesDone ?? 0) <= 100)).toBe(true);
    expect(seen[0]).toEqual({ phase: "reading", bytesDone: 1, bytesTotal: 1000 });
  });

  it("records at least once a second however slowly the bytes come", () => {
    let clock = 0;
    const seen: number[] = [];
    const report = progressRecorder("copying", (p) => seen.push(p.bytesDone), () => clock);
    for (let done = 1; done <= 10; done++) {
      clock += 400;
      report(done, 1_000_000);
    }
    expect(seen).toEqual([1, 4, 7, 10]);
  });

  it("never records the same bytes twice", () => {
    const seen: number[] = [];
    const report = progressRecorder("parsing", (p) => seen.push(p.bytesDone), () => 0);
    report(10, 10);
    report(10, 10);
    expect(seen).toEqual([10]);
  });
});
