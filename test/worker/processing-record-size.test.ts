import { describe, expect, it } from "vitest";
import type { ModelSummary } from "../../src/processing/summary";
import { boundedSummary } from "../../src/processing/bounded-summary";
import { encode, stepFile } from "../support/model-stream";
import { accepted, getJob, getSummary, runAttempt, uniqueProject } from "../support/processing";

describe("summaries too large for a job record", () => {
  it("a model with 50 000 materials succeeds: the record keeps the first ones, GET summary answers them all", async () => {
    const count = 50_000;
    const materials = Array.from({ length: count }, (_, i) => `#${i + 1}=IFCMATERIAL('Material ${i + 1}',$,$);`);
    const bytes = encode(stepFile(`${materials.join("\n")}\n#${count + 1}=IFCRELASSOCIATESMATERIAL('r',$,$,$,(#${count + 2}),#1);\n#${count + 2}=IFCWALL($);`));
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, bytes, "many-materials.ifc");
    expect(await runAttempt(jobId, { env: { PROCESSOR: "stream" } })).toBe(true);

    const job = (await getJob(projectId, jobId)).body;
    expect(job.status).toBe("succeeded");
    expect(job.summary?.truncated).toEqual({ materials: count, storeys: 0 });
    expect(job.summary?.materials.length).toBeLessThan(count);
    expect(new TextEncoder().encode(JSON.stringify(job)).byteLength).toBeLessThan(512 * 1024);

    const summary = (await (await getSummary(projectId, jobId)).json()) as ModelSummary;
    expect(summary.truncated).toBeUndefined();
    expect(summary.materials).toHaveLength(count);
    expect(summary.materials[0]).toEqual({ expressId: 1, name: "Material 1", associatedObjects: 1 });
    expect(summary.materials[count - 1]).toEqual({ expressId: count, name: `Material ${count}`, associatedObjects: 0 });
  });

  it("a model with a 3 MB material name succeeds with the name cut to 4096 characters", async () => {
    const bytes = encode(stepFile(`#1=IFCMATERIAL('${"Holz ".repeat(600_000)}',$,$);\n#2=IFCWALL($);`));
    const projectId = uniqueProject();
    const jobId = await accepted(projectId, bytes, "long-name.ifc");
    expect(await runAttempt(jobId, { env: { PROCESSOR: "stream" } })).toBe(true);
    const job = (await getJob(projectId, jobId)).body;
    expect(job.status).toBe("succeeded");
    expect(job.summary?.materials[0]?.name).toHaveLength(4096);
    expect(job.summary?.validation.warnings.map((w) => w.code)).toEqual(["string_truncated"]);
  });

  it("leaves a summary that fits as it is, and halves the lists until one that does not fits", () => {
    const summary = {
      materials: Array.from({ length: 3000 }, (_, i) => ({ expressId: i, name: "x".repeat(100), associatedObjects: 0 })),
      storeys: [],
    } as unknown as ModelSummary;
    expect(boundedSummary(summary, 1024 * 1024)).toBe(summary);
    const cut = boundedSummary(summary, 20_000);
    expect(cut.materials.length).toBeLessThan(200);
    expect(new TextEncoder().encode(JSON.stringify(cut)).byteLength).toBeLessThanOrEqual(20_000);
    expect(cut.truncated).toEqual({ materials: 3000, storeys: 0 });
  });
});
