import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { JobObject } from "../../src/jobs/object";
import type { AcceptedUpload, JobRecord } from "../../src/jobs/record";
import { JobState, type PlannedEvent } from "../../src/jobs/state";
import { migrate } from "../../src/jobs/state-schema";
import type { NotificationEvent } from "../../src/notify/events";
import type { ModelSummary } from "../../src/processing/summary";
import { jobStub, uniqueProject } from "../support/processing";

function newJob(projectId = uniqueProject()): { record: JobRecord; reply: AcceptedUpload } {
  const jobId = crypto.randomUUID();
  const at = new Date().toISOString();
  const file = { name: "m.ifc", size: 10, sha256: "0".repeat(64), schema: "IFC4" };
  return {
    record: {
      jobId,
      projectId,
      status: "queued",
      file,
      objectKey: `projects/${projectId}/models/${jobId}/m.ifc`,
      attempts: 0,
      notifications: [],
      requestId: "r-1",
      createdAt: at,
      updatedAt: at,
    },
    reply: { jobId, projectId, status: "queued", file, links: { self: `/v1/jobs/${jobId}` } },
  };
}

function planned(jobId: string, type: NotificationEvent["type"], extra: Partial<NotificationEvent> = {}): PlannedEvent {
  const event = {
    id: `${jobId}:${type}`,
    type,
    createdAt: new Date().toISOString(),
    projectId: "p",
    jobId,
    file: { name: "m.ifc", size: 10, sha256: "0", schema: "IFC4" },
    summary: null,
    requestId: "r-1",
    ...extra,
  } satisfies NotificationEvent;
  return { event, deliveries: [{ eventId: event.id, eventType: type, channel: "webhook", status: "pending", attempts: 0, nextAttemptAt: Date.now() }] };
}

const summary: ModelSummary = {
  schema: "IFC4",
  entityCount: 1,
  header: { fileName: null, timeStamp: null, originatingSystem: null, preprocessorVersion: null, description: [] },
  project: null,
  storeys: [],
  counts: { IFCWALL: 1 },
  materials: [],
  file: { size: 10, sha256: "0" },
  validation: {
    errors: [],
    warnings: [],
    unknownTypes: {},
    duplicateIds: 0,
    danglingReferences: 0,
    truncated: false,
    schemaTable: "IFC4",
    errorCount: 0,
    warningCount: 0,
  },
  processor: { engine: "mock", version: "0", durationMs: 1 },
};

/** The table job objects had for an Idempotency-Key's record before keys had their own object. */
const KEY_TABLE = `CREATE TABLE idempotency_key (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1), project_id TEXT NOT NULL, job_id TEXT NOT NULL, owner TEXT,
  renewed_at INTEGER, fingerprint TEXT, reply TEXT, expires_at INTEGER NOT NULL
)`;

describe("job object state", () => {
  it("grants exactly one of two reservations made at once", async () => {
    const stub = jobStub(crypto.randomUUID());
    const now = Date.now();
    const answers = await Promise.all([stub.reserve("p-a", now), stub.reserve("p-b", now)]);
    expect(answers.map((answer) => answer.state).sort()).toEqual(["in-progress", "reserved"]);
  });

  it("writes reply, record, the uploaded event and the alarm together on accept", async () => {
    const { record, reply } = newJob();
    const stub = jobStub(record.jobId);
    expect(await stub.reserve(record.projectId, Date.now())).toEqual({ state: "reserved" });
    await stub.accept(record, reply);
    await runInDurableObject(stub, async (_object: JobObject, state) => {
      const jobState = new JobState(state.storage);
      expect(jobState.reply()).toEqual(reply);
      expect(jobState.reservation()).toBeNull();
      expect(jobState.record()).toMatchObject({ jobId: record.jobId, status: "queued", attempts: 0 });
      expect(jobState.deliveries().map((d) => [d.eventType, d.status])).toEqual([["model.uploaded", "pending"]]);
      expect(await state.storage.getAlarm()).toBe(jobState.alarmAt());
    });
    expect(await stub.reserve(record.projectId, Date.now())).toMatchObject({ state: "accepted", reply });
  });

  it("keeps the first acceptance when accept is called again", async () => {
    const { record, reply } = newJob();
    const stub = jobStub(record.jobId);
    await stub.accept(record, reply);
    await stub.accept({ ...record, file: { ...record.file, name: "other.ifc" } }, { ...reply, file: { ...reply.file, name: "other.ifc" } });
    expect((await stub.record())?.file.name).toBe("m.ifc");
  });

  it("sees either nothing or the whole acceptance when its alarm runs during accept", async () => {
    const { record, reply } = newJob();
    const stub = jobStub(record.jobId);
    await runInDurableObject(stub, (_object: JobObject, state) => state.storage.setAlarm(Date.now()));
    const [, ran] = await Promise.all([stub.accept(record, reply), runDurableObjectAlarm(stub)]);
    expect(ran).toBe(true);
    const stored = await stub.record();
    expect(stored).toMatchObject({ status: "queued", attempts: 0 });
    expect(stored?.notifications.map((n) => n.event)).toEqual(["model.uploaded"]);
    await runInDurableObject(stub, async (_object: JobObject, state) => {
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
  });

  it("leaves the previous state whole when a write of a finished attempt fails part way", async () => {
    const { record, reply } = newJob();
    await runInDurableObject(jobStub(record.jobId), (_object: JobObject, state) => {
      const jobState = new JobState(state.storage);
      jobState.accept(record, reply, Date.now(), planned(record.jobId, "model.uploaded"));
      jobState.startAttempt(Date.now(), Date.now() + 60_000);
      const before = jobState.record();
      // The record's update and the event row succeed; the delivery row after them breaks a
      // NOT NULL constraint (a fault injected through bad data: SQLite itself refuses the row).
      const broken = planned(record.jobId, "model.processed");
      const [delivery] = broken.deliveries;
      if (!delivery) throw new Error("planned() makes one delivery");
      const faulty = { ...broken, deliveries: [{ ...delivery, channel: null as unknown as "webhook" }] };
      expect(() => jobState.endAttempt({ kind: "succeeded", summary, file: record.file, event: faulty }, Date.now())).toThrow(/NOT NULL/);
      expect(jobState.record()).toEqual(before);
      expect(jobState.record()?.status).toBe("processing");
      expect(jobState.events().map((event) => event.type)).toEqual(["model.uploaded"]);
    });
  });

  it("drops web-ifc's model copy in the transaction that ends the job, and keeps it when that transaction fails", async () => {
    const { record, reply } = newJob();
    await runInDurableObject(jobStub(record.jobId), (_object: JobObject, state) => {
      const jobState = new JobState(state.storage);
      jobState.accept(record, reply, Date.now(), planned(record.jobId, "model.uploaded"));
      jobState.startAttempt(Date.now(), Date.now() + 60_000);
      state.storage.sql.exec("CREATE TABLE model_chunks (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)");
      state.storage.sql.exec("INSERT INTO model_chunks (seq, data) VALUES (0, ?)", new Uint8Array(1024));
      const chunkTables = () => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'model_chunks'").toArray().length;
      const drop = () => state.storage.sql.exec("DROP TABLE IF EXISTS model_chunks");
      const broken = planned(record.jobId, "model.processed");
      const [delivery] = broken.deliveries;
      if (!delivery) throw new Error("planned() makes one delivery");
      const faulty = { ...broken, deliveries: [{ ...delivery, channel: null as unknown as "webhook" }] };
      expect(() => jobState.endAttempt({ kind: "succeeded", summary, file: record.file, event: faulty }, Date.now(), drop)).toThrow(/NOT NULL/);
      expect(chunkTables()).toBe(1);
      expect(jobState.record()?.status).toBe("processing");
      jobState.endAttempt({ kind: "succeeded", summary, file: record.file, event: broken }, Date.now(), drop);
      expect(chunkTables()).toBe(0);
      expect(jobState.record()?.status).toBe("succeeded");
    });
  });

  it("moves a job kept in the old key-value table into the typed tables", async () => {
    const { record, reply } = newJob();
    await runInDurableObject(jobStub(record.jobId), (_object: JobObject, state) => {
      // A fresh object has no tables until its state is first written: only the old layout's.
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE state (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
      const event = planned(record.jobId, "model.uploaded");
      const put = (name: string, value: unknown) => sql.exec("INSERT INTO state (name, value) VALUES (?, ?)", name, JSON.stringify(value));
      put("record", { ...record, status: "processing", attempts: 2, attemptStartedAt: new Date(1_000).toISOString() });
      put("reply", reply);
      put("processingDueAt", 5_000);
      put("notifyEvents", [event.event]);
      put("notifyStates", [{ ...event.deliveries[0], status: "delivered", attempts: 1, nextAttemptAt: null }]);
      const migrated = new JobState(state.storage);
      expect(migrated.record()).toMatchObject({ status: "processing", attempts: 2, attemptStartedAt: new Date(1_000).toISOString() });
      expect(migrated.reply()).toEqual(reply);
      expect(migrated.deliveries()).toEqual([expect.objectContaining({ eventType: "model.uploaded", status: "delivered", attempts: 1 })]);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'state'").one().n).toBe(0);
    });
  });

  it("gives a new object, in one batch, the same tables as replaying every migration", async () => {
    /** Each table's definition (whitespace-insensitive) and columns, and the schema version. */
    const schemaOf = (storage: DurableObjectStorage) => {
      const sql = storage.sql;
      const tables = sql
        .exec<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .toArray();
      return {
        version: sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version,
        tables: tables.map(({ name, sql: text }) => ({
          name,
          definition: text.replace(/\s+/g, " ").replace(/ ?([(),]) ?/g, "$1"),
          columns: sql.exec(`PRAGMA table_info(${name})`).toArray(),
        })),
      };
    };
    const fresh = await runInDurableObject(jobStub(crypto.randomUUID()), (_object: JobObject, state) => {
      migrate(state.storage);
      return schemaOf(state.storage);
    });
    const replayed = await runInDurableObject(jobStub(crypto.randomUUID()), (_object: JobObject, state) => {
      // An object from before the batch: a version table at 0 makes migrate() replay each step.
      state.storage.sql.exec("CREATE TABLE schema_version (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL)");
      migrate(state.storage);
      return schemaOf(state.storage);
    });
    expect(fresh.tables.map((table) => table.name)).toEqual(["alarm", "deliveries", "events", "job", "reply", "reservation", "schema_version"]);
    expect(fresh).toEqual(replayed);
  });

  it("drops the Idempotency-Key table a job object of schema version 6 still has, keeping the job", async () => {
    const { record, reply } = newJob();
    await runInDurableObject(jobStub(record.jobId), (_object: JobObject, state) => {
      const sql = state.storage.sql;
      new JobState(state.storage).accept(record, reply, Date.now(), planned(record.jobId, "model.uploaded"));
      sql.exec(KEY_TABLE);
      sql.exec("UPDATE schema_version SET version = 6");
      const migrated = new JobState(state.storage);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'idempotency_key'").one().n).toBe(0);
      expect(migrated.record()).toMatchObject({ jobId: record.jobId, status: "queued" });
      expect(migrated.reply()).toEqual(reply);
    });
  });

  it("leaves nothing behind at its alarm when it holds no job, such as a key record of schema version 6", async () => {
    const stub = jobStub(`idempotency-key:test-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_object: JobObject, state) => {
      const sql = state.storage.sql;
      new JobState(state.storage);
      sql.exec(KEY_TABLE);
      sql.exec("UPDATE schema_version SET version = 6");
      sql.exec("INSERT INTO idempotency_key (singleton, project_id, job_id, expires_at) VALUES (1, 'p', 'j', ?)", Date.now());
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const tables = await runInDurableObject(stub, (_object: JobObject, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables).toEqual([]);
    expect(await stub.record()).toBeNull();
  });
});
