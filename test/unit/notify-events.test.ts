import { describe, expect, it } from "vitest";
import { buildEvent, eventId, summarize } from "../../src/notify/events";

const job = {
  jobId: "5b0b2a38-8a5e-4d6f-9a39-5a3f4c1d2e10",
  projectId: "p-1",
  file: { name: "duplex.ifc", size: 2_380_000, sha256: "ab".repeat(32), schema: "IFC2X3" },
  requestId: "req-1",
  status: "succeeded",
  objectKey: "projects/p-1/models/x/duplex.ifc",
};

describe("notification events", () => {
  it("builds model.uploaded without summary or error", async () => {
    const event = await buildEvent("model.uploaded", job, { createdAt: new Date("2026-01-01T00:00:00Z") });
    expect(event).toEqual({
      id: await eventId(job.jobId, "model.uploaded"),
      type: "model.uploaded",
      createdAt: "2026-01-01T00:00:00.000Z",
      projectId: "p-1",
      jobId: job.jobId,
      file: job.file,
      summary: null,
      requestId: "req-1",
    });
  });

  it("sends counts of a summary, not the summary itself", async () => {
    const summary = {
      materials: [{ name: "Holz" }, { name: "Beton" }],
      storeys: [{ name: "EG" }],
      counts: { IFCWALL: 13, IFCDOOR: 4, IFCSLAB: 2 },
      header: { fileName: "x" },
    };
    const event = await buildEvent("model.processed", job, { createdAt: "2026-01-01T00:01:00.000Z", summary });
    expect(event.summary).toEqual({ materials: 2, storeys: 1, elements: 19 });
    expect(JSON.stringify(event)).not.toContain("Holz");
    expect(summarize({ materials: [], storeys: [], counts: {} })).toEqual({ materials: 0, storeys: 0, elements: 0 });
  });

  it("carries the error of a failed job and nothing of the job record's internals", async () => {
    const event = await buildEvent("model.failed", job, { createdAt: "2026-01-01T00:01:00.000Z", error: { code: "parse-error", message: "bad STEP" } });
    expect(event.error).toEqual({ code: "parse-error", message: "bad STEP" });
    expect(event).not.toHaveProperty("objectKey");
    expect(event).not.toHaveProperty("status");
  });

  it("gives the same id for the same job and type, a different one otherwise, as a v5 UUID", async () => {
    const a = await eventId(job.jobId, "model.processed");
    expect(a).toBe(await eventId(job.jobId, "model.processed"));
    expect(a).not.toBe(await eventId(job.jobId, "model.uploaded"));
    expect(a).not.toBe(await eventId("another-job", "model.processed"));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("rebuilds an identical event from the same inputs", async () => {
    const details = { createdAt: "2026-01-01T00:01:00.000Z", summary: { materials: [], storeys: [], counts: { IFCWALL: 1 } } };
    expect(await buildEvent("model.processed", job, details)).toEqual(await buildEvent("model.processed", job, details));
  });
});
