import { describe, expect, it } from "vitest";
import { MAX_PART_SIZE, MIN_PART_SIZE, checkCompletion, expectedPartSize, planParts, sameEtag } from "../../src/uploads/session-rules";
import { decodeCursor, encodeCursor } from "../../src/uploads/upload-index";
import { publicStatus } from "../../src/uploads/session-record";

const MiB = 1024 * 1024;

describe("planParts", () => {
  it("uses 8 MiB parts while 10 000 of them suffice", () => {
    expect(planParts(1)).toEqual({ partSize: MIN_PART_SIZE, partCount: 1 });
    expect(planParts(8 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 1 });
    expect(planParts(8 * MiB + 1)).toEqual({ partSize: 8 * MiB, partCount: 2 });
    expect(planParts(10_000 * 8 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 10_000 });
  });

  it("grows the part by whole MiB beyond 10 000 parts of 8 MiB, and refuses what 95 MiB parts cannot hold", () => {
    expect(planParts(10_000 * 8 * MiB + 1)).toEqual({ partSize: 9 * MiB, partCount: 8_889 });
    expect(planParts(10_000 * MAX_PART_SIZE)).toEqual({ partSize: MAX_PART_SIZE, partCount: 10_000 });
    expect(planParts(10_000 * MAX_PART_SIZE + 1)).toBeNull();
  });

  it("makes every part but the last exactly partSize", () => {
    const plan = { partSize: 8 * MiB, partCount: 3 };
    expect(expectedPartSize(1, 17 * MiB, plan)).toBe(8 * MiB);
    expect(expectedPartSize(3, 17 * MiB, plan)).toBe(MiB);
  });
});

describe("checkCompletion", () => {
  const plan = { partSize: 8 * MiB, partCount: 2 };
  const size = 9 * MiB;
  const stored = [
    { partNumber: 1, size: 8 * MiB, etag: '"a"' },
    { partNumber: 2, size: MiB, etag: '"b"' },
  ];

  it("hands storage its own ETags when the client's match, quoted or not", () => {
    expect(checkCompletion(stored, [{ partNumber: 1, etag: "a" }, { partNumber: 2, etag: '"b"' }], size, plan)).toEqual({
      ok: true,
      parts: [{ partNumber: 1, etag: '"a"' }, { partNumber: 2, etag: '"b"' }],
    });
    expect(sameEtag('W/"a"', "a")).toBe(true);
  });

  it("names parts missing from storage or from the list", () => {
    expect(checkCompletion(stored.slice(0, 1), [{ partNumber: 1, etag: "a" }, { partNumber: 2, etag: "b" }], size, plan)).toMatchObject({ missingParts: [2] });
    expect(checkCompletion(stored, [{ partNumber: 2, etag: "b" }], size, plan)).toMatchObject({ missingParts: [1] });
  });

  it("names wrong ETags and parts beyond the count", () => {
    const named = [{ partNumber: 1, etag: "x" }, { partNumber: 2, etag: "b" }, { partNumber: 3, etag: "c" }];
    expect(checkCompletion(stored, named, size, plan)).toMatchObject({ reason: "mismatch", mismatchedParts: [3, 1] });
  });

  it("names stored parts of the wrong size", () => {
    const short = [stored[0], { partNumber: 2, size: 10, etag: '"b"' }].filter((p) => p !== undefined);
    expect(checkCompletion(short, [{ partNumber: 1, etag: "a" }, { partNumber: 2, etag: "b" }], size, plan)).toMatchObject({ wrongSizeParts: [2] });
  });
});

describe("listing cursors and statuses", () => {
  it("round-trips a cursor and refuses one it did not make", () => {
    expect(decodeCursor(encodeCursor(1_764_000_000_000, "ab-12"))).toEqual({ createdMs: 1_764_000_000_000, uploadId: "ab-12" });
    expect(decodeCursor("not a cursor!")).toBeNull();
    expect(decodeCursor(btoa("12:../../x"))).toBeNull();
  });

  it("shows a completing session as open and an open one past expiry as expired", () => {
    const future = new Date(Date.now() + 1000).toISOString();
    expect(publicStatus({ status: "completing", expiresAt: future }, Date.now())).toBe("open");
    expect(publicStatus({ status: "open", expiresAt: future }, Date.now() + 2000)).toBe("expired");
    expect(publicStatus({ status: "completed", expiresAt: future }, Date.now() + 2000)).toBe("completed");
  });
});
