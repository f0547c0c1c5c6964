import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { JobObject } from "../../src/jobs/object";
import type { ObjectStorage } from "../../src/storage/object-storage";
import { fixture } from "../support/worker";
import { accepted, getJob, jobStub, runAttempt, uniqueProject } from "../support/processing";

const KiB = 1024;
const STEP_MAGIC = "ISO-10303-21;";

interface Leftovers {
  tables: string[];
  databaseSize: number;
  /** Cells (table.column) whose text or bytes contain a STEP header: a piece of the model. */
  modelCells: string[];
}

const tableNames = (sql: SqlStorage): string[] =>
  sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .toArray()
    .map((row) => row.name);

/** What the job's Durable Object keeps in its SQLite storage, read from inside the object. */
async function leftovers(jobId: string): Promise<Leftovers> {
  return runInDurableObject(jobStub(jobId), (_object: JobObject, state) => {
    const sql = state.storage.sql;
    const tables = tableNames(sql);
    const modelCells: string[] = [];
    const decoder = new TextDecoder();
    for (const table of tables) {
      for (const row of sql.exec(`SELECT * FROM "${table}"`)) {
        for (const [column, value] of Object.entries(row)) {
          const text = value instanceof ArrayBuffer ? decoder.decode(value) : String(value);
          if (text.includes(STEP_MAGIC)) modelCells.push(`${table}.${column}`);
        }
      }
    }
    return { tables, databaseSize: sql.databaseSize, modelCells };
  });
}

const HEADER =
  "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\n" +
  "FILE_NAME('t.ifc','2026-01-01T00:00:00',(''),(''),'tests','tests','');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n";

describe("a finished job keeps no model bytes in its object", () => {
  it("after web-ifc summarised the model: no chunk table, no model text, a database far smaller than the model", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("duplex.ifc");
    const jobId = await accepted(projectId, bytes, "duplex.ifc");
    expect(await runAttempt(jobId, { env: { PROCESSOR: "web-ifc" } })).toBe(true);
    expect((await getJob(projectId, jobId)).body.status).toBe("succeeded");

    const left = await leftovers(jobId);
    expect(left.tables).not.toContain("model_chunks");
    expect(left.modelCells).toEqual([]);
    expect(bytes.byteLength).toBeGreaterThan(2000 * KiB);
    expect(left.databaseSize).toBeLessThan(64 * KiB);
  });

  it("after web-ifc refused the model: no chunk table, no model text, a small database", async () => {
    const projectId = uniqueProject();
    // Valid enough for the upload's header check; web-ifc fails it (a comment never closed).
    const padding = "#1=IFCMATERIAL('padding',$,$);\n".repeat(40_000);
    const bytes = new TextEncoder().encode(`${HEADER}${padding}/* never closed\nENDSEC;\nEND-ISO-10303-21;\n`);
    const jobId = await accepted(projectId, bytes, "broken.ifc");
    expect(await runAttempt(jobId, { env: { PROCESSOR: "web-ifc" } })).toBe(true);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "failed", error: { code: "invalid_step" } });

    const left = await leftovers(jobId);
    expect(left.tables).not.toContain("model_chunks");
    expect(left.modelCells).toEqual([]);
    expect(bytes.byteLength).toBeGreaterThan(1000 * KiB);
    expect(left.databaseSize).toBeLessThan(64 * KiB);
  });

  it("with the stream engine: nothing of the model is written, not even while it is being read", async () => {
    const projectId = uniqueProject();
    const bytes = await fixture("duplex.ifc");
    const jobId = await accepted(projectId, bytes, "duplex.ifc");
    const stub = jobStub(jobId);
    const seen: { databaseSize: number; tables: string[] }[] = [];
    await runInDurableObject(stub, (object: JobObject, state) => {
      const look = () => seen.push({ databaseSize: state.storage.sql.databaseSize, tables: tableNames(state.storage.sql) });
      // Looks into the job's storage as each piece of the model passes to the engine, and at the end.
      const watched = (base: ObjectStorage): ObjectStorage => ({
        driver: base.driver,
        put: (...args) => base.put(...args),
        head: (key) => base.head(key),
        delete: (key) => base.delete(key),
        ping: () => base.ping(),
        get: async (key, range) => {
          const found = await base.get(key, range);
          if (!found || !key.endsWith("/duplex.ifc")) return found;
          const body = found.body.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, controller) {
                look();
                controller.enqueue(chunk);
              },
              flush() {
                look();
              },
            }),
          );
          return { ...found, body };
        },
      });
      JobObject.overrideForTests(object, { env: { PROCESSOR: "stream" }, storage: watched });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await getJob(projectId, jobId)).body).toMatchObject({ status: "succeeded", summary: { processor: { engine: "stream" } } });

    expect(seen.length).toBeGreaterThan(1);
    for (const look of seen) {
      expect(look.tables).not.toContain("model_chunks");
      expect(look.databaseSize).toBeLessThan(64 * KiB);
    }
    const left = await leftovers(jobId);
    expect(left.tables).not.toContain("model_chunks");
    expect(left.modelCells).toEqual([]);
    expect(left.databaseSize).toBeLessThan(64 * KiB);
  });
});
