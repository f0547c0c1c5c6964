import { beforeAll, describe, expect, it } from "vitest";
import type { ModelSummary } from "../../src/processing/summary";
import { isolateMemoryStorage } from "../../src/storage/memory";
import { accepted, getJob, getSummary, materialPairs, runAttempt, sortedPairs, uniqueProject } from "../support/processing";
import { type ExpectedModel, REFERENCE_MODELS, expectedModels, fixture, sha256Hex } from "../support/worker";

const ENGINES = ["stream", "web-ifc"] as const;
type Engine = (typeof ENGINES)[number];

let expected: ExpectedModel[];

beforeAll(async () => {
  expected = await expectedModels();
});

/** Uploads `file` and runs one attempt of its job with `engine`; answers the job's summary. */
async function summarise(file: string, engine: Engine): Promise<{ summary: ModelSummary; projectId: string; jobId: string }> {
  const projectId = uniqueProject();
  const jobId = await accepted(projectId, await fixture(file), file);
  expect(await runAttempt(jobId, { env: { PROCESSOR: engine } })).toBe(true);
  const job = await getJob(projectId, jobId);
  expect(job.body, JSON.stringify(job.body.error)).toMatchObject({ status: "succeeded", attempts: 1 });
  const response = await getSummary(projectId, jobId);
  expect(response.status).toBe(200);
  const summary = (await response.json()) as ModelSummary;
  expect(job.body.summary).toEqual(summary);
  return { summary, projectId, jobId };
}

const withoutEngine = ({ processor: _processor, ...rest }: ModelSummary) => rest;

describe("both engines, every model, inside the job object", () => {
  for (const file of [...REFERENCE_MODELS, "ifc4x3-rc2-road.ifc"]) {
    it(`stream and web-ifc summarise ${file} identically (engine fields aside)`, async () => {
      const [stream, webIfc] = [await summarise(file, "stream"), await summarise(file, "web-ifc")];
      expect(stream.summary.processor.engine).toBe("stream");
      expect(webIfc.summary.processor.engine).toBe("web-ifc");
      expect(withoutEngine(stream.summary)).toEqual(withoutEngine(webIfc.summary));
      const bytes = await fixture(file);
      expect(stream.summary.file).toEqual({ size: bytes.byteLength, sha256: await sha256Hex(bytes) });
      const stored = await isolateMemoryStorage.get(`projects/${stream.projectId}/models/${stream.jobId}/summary.json`);
      expect(JSON.parse(await new Response(stored?.body).text())).toEqual(stream.summary);
    });
  }

  for (const file of REFERENCE_MODELS) {
    for (const engine of ENGINES) {
      it(`${engine} matches expected.jsonl for ${file}`, async () => {
        const reference = expected.find((m) => m.file === file);
        if (!reference) throw new Error(`${file} missing from expected.jsonl`);
        const { summary } = await summarise(file, engine);
        expect(summary.schema).toBe(reference.schema);
        expect(summary.entityCount).toBe(reference.entities);
        expect(summary.storeys.map((s) => s.name).sort()).toEqual(reference.storeys);
        for (const [type, count] of Object.entries(reference.counts)) expect(summary.counts[type] ?? 0, type).toBe(count);
        expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(reference.entities);
        expect(materialPairs(summary)).toEqual(sortedPairs(reference.materials));
        expect(summary.validation).toMatchObject({ errors: [], unknownTypes: {}, truncated: false });
        // example.ifc's IFCWINDOWSTYLE #14315 names four property sets the file never defines.
        expect(summary.validation.danglingReferences).toBe(file === "example.ifc" ? 4 : 0);
      });
    }
  }

  it("counts every instance of an IFC4X3_RC2 model, types its schema table lacks included and listed", async () => {
    const { summary } = await summarise("ifc4x3-rc2-road.ifc", "stream");
    const unknown = {
      IFCALIGNMENT2DHORIZONTAL: 1,
      IFCALIGNMENT2DHORSEGMENT: 1,
      IFCALIGNMENT2DVERSEGLINE: 1,
      IFCALIGNMENT2DVERTICAL: 1,
      IFCALIGNMENTCURVE: 1,
      IFCLINESEGMENT2D: 1,
      IFCPRESENTATIONSTYLEASSIGNMENT: 2,
    };
    expect(summary.schema).toBe("IFC4X3_RC2");
    expect(summary.entityCount).toBe(54);
    expect(summary.counts).toMatchObject({ ...unknown, IFCROAD: 1, IFCCOURSE: 2, IFCSTYLEDITEM: 2 });
    expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(54);
    expect(summary.validation).toMatchObject({ schemaTable: "IFC4X3", unknownTypes: unknown, duplicateIds: 0, danglingReferences: 0, errors: [] });
    expect(summary.project).toEqual({ globalId: "1hqIFTRjfV6AWq_bMtnZwI", name: "Bypass B17" });
    expect(materialPairs(summary)).toEqual([
      ["Asphalt AC 11 D S", 2],
      ["Gravel base course 0/32", 2],
    ]);
  });
});
