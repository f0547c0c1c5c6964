/**
 * The job object's SQLite schema, as numbered migrations. Each runs once, in a transaction
 * with the bump of the version it brings, so an object never sees half a schema.
 */
const MIGRATIONS: readonly ((sql: SqlStorage) => void)[] = [
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS job (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        job_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'succeeded', 'failed')),
        file TEXT NOT NULL,
        object_key TEXT NOT NULL,
        request_id TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        lost_attempts INTEGER NOT NULL DEFAULT 0,
        attempt_started_at INTEGER,
        next_attempt_at INTEGER,
        processing_due_at INTEGER,
        summary TEXT,
        error_code TEXT,
        error_message TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS reply (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS reservation (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        project_id TEXT NOT NULL,
        reserved_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS deliveries (
        event_id TEXT NOT NULL REFERENCES events (id),
        channel TEXT NOT NULL,
        event_type TEXT NOT NULL,
        seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        next_attempt_at INTEGER,
        PRIMARY KEY (event_id, channel)
      );
      CREATE TABLE IF NOT EXISTS alarm (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), at INTEGER NOT NULL);
    `);
  },
  importKeyValueState,
  // The version of the job the project's listing last took (src/jobs/listing.ts).
  (sql) => {
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(job)").toArray();
    if (!columns.some((column) => column.name === "listed_updated_at")) sql.exec("ALTER TABLE job ADD COLUMN listed_updated_at TEXT");
  },
  // Progress of the running attempt, shown on the job while it processes.
  (sql) => {
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(job)").toArray();
    if (!columns.some((column) => column.name === "progress")) sql.exec("ALTER TABLE job ADD COLUMN progress TEXT");
  },
  // Held an Idempotency-Key's record; dropped again by a later migration (keys have their own class).
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS idempotency_key (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        project_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        owner TEXT,
        renewed_at INTEGER,
        fingerprint TEXT,
        reply TEXT,
        expires_at INTEGER NOT NULL
      )`);
  },
  // When the job finished (succeeded or failed): its retention counts from here. Jobs that
  // finished before take their last update.
  (sql) => {
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(job)").toArray();
    if (!columns.some((column) => column.name === "finished_at")) sql.exec("ALTER TABLE job ADD COLUMN finished_at INTEGER");
    sql.exec(
      "UPDATE job SET finished_at = CAST(strftime('%s', updated_at) AS INTEGER) * 1000 WHERE finished_at IS NULL AND status IN ('succeeded', 'failed')",
    );
  },
  // An Idempotency-Key's record lives in its own object (src/idempotency/); no job uses the table.
  (sql) => {
    sql.exec("DROP TABLE IF EXISTS idempotency_key");
  },
];

/**
 * The schema every migration above leads to, created at once in a new object: a job object is
 * new for every upload, and one batch of statements costs the upload far less than replaying
 * the history (a test checks both end in the same tables). Add a migration, change this too.
 */
const NEWEST_SCHEMA = `
  CREATE TABLE schema_version (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL);
  CREATE TABLE job (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    job_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'succeeded', 'failed')),
    file TEXT NOT NULL,
    object_key TEXT NOT NULL,
    request_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    lost_attempts INTEGER NOT NULL DEFAULT 0,
    attempt_started_at INTEGER,
    next_attempt_at INTEGER,
    processing_due_at INTEGER,
    summary TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    listed_updated_at TEXT,
    progress TEXT,
    finished_at INTEGER
  );
  CREATE TABLE reply (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), body TEXT NOT NULL);
  CREATE TABLE reservation (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    project_id TEXT NOT NULL,
    reserved_at INTEGER NOT NULL
  );
  CREATE TABLE events (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
  CREATE TABLE deliveries (
    event_id TEXT NOT NULL REFERENCES events (id),
    channel TEXT NOT NULL,
    event_type TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    next_attempt_at INTEGER,
    PRIMARY KEY (event_id, channel)
  );
  CREATE TABLE alarm (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), at INTEGER NOT NULL);
  INSERT INTO schema_version (singleton, version) VALUES (1, ${MIGRATIONS.length});
`;

/** Brings the object's tables to the newest schema. */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  // Neither the version table nor the key-value table of the oldest objects: nothing to carry over.
  const known = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name IN ('schema_version', 'state') LIMIT 1").toArray();
  if (known.length === 0) {
    storage.transactionSync(() => sql.exec(NEWEST_SCHEMA));
    return;
  }
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL)");
  const current = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
  for (let version = current; version < MIGRATIONS.length; version++) {
    const step = MIGRATIONS[version];
    if (!step) continue;
    storage.transactionSync(() => {
      step(sql);
      sql.exec("INSERT OR REPLACE INTO schema_version (singleton, version) VALUES (1, ?)", version + 1);
    });
  }
}

interface LegacyRecord {
  jobId: string;
  projectId: string;
  status: string;
  file: unknown;
  objectKey: string;
  attempts: number;
  summary?: unknown;
  error?: { code: string; message: string };
  nextAttemptAt?: string;
  requestId: string;
  createdAt: string;
  updatedAt: string;
  attemptStartedAt?: string;
  lostAttempts?: number;
}

interface LegacyDelivery {
  eventId: string;
  eventType: string;
  channel: string;
  status: string;
  attempts: number;
  lastError?: string;
  nextAttemptAt: number | null;
}

/**
 * Objects created before the typed tables kept their state as JSON values in a `state` table
 * (one row per name). Their jobs carry on where they were: the values move into the tables.
 */
function importKeyValueState(sql: SqlStorage): void {
  const legacy = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'state'").one().n > 0;
  if (!legacy) return;
  const value = <T>(name: string): T | undefined => {
    const row = sql.exec<{ value: string }>("SELECT value FROM state WHERE name = ?", name).toArray()[0];
    return row ? (JSON.parse(row.value) as T | undefined) : undefined;
  };
  const record = value<LegacyRecord>("record");
  const reply = value<unknown>("reply");
  const reservation = value<{ projectId: string; at: number }>("reservation");
  const iso = (text: string | undefined) => (text === undefined ? null : Date.parse(text));
  if (reply !== undefined) sql.exec("INSERT OR REPLACE INTO reply (singleton, body) VALUES (1, ?)", JSON.stringify(reply));
  if (reservation) sql.exec("INSERT OR REPLACE INTO reservation (singleton, project_id, reserved_at) VALUES (1, ?, ?)", reservation.projectId, reservation.at);
  if (record) {
    sql.exec(
      `INSERT OR REPLACE INTO job (singleton, job_id, project_id, status, file, object_key, request_id, attempts, lost_attempts,
         attempt_started_at, next_attempt_at, processing_due_at, summary, error_code, error_message, created_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.jobId,
      record.projectId,
      record.status,
      JSON.stringify(record.file),
      record.objectKey,
      record.requestId,
      record.attempts,
      record.lostAttempts ?? 0,
      iso(record.attemptStartedAt),
      iso(record.nextAttemptAt),
      value<number | null>("processingDueAt") ?? null,
      record.summary === undefined ? null : JSON.stringify(record.summary),
      record.error?.code ?? null,
      record.error?.message ?? null,
      record.createdAt,
      record.updatedAt,
    );
  }
  const events = value<{ id: string }[]>("notifyEvents") ?? [];
  events.forEach((event, index) => sql.exec("INSERT OR IGNORE INTO events (id, seq, body) VALUES (?, ?, ?)", event.id, index + 1, JSON.stringify(event)));
  const seqOf = new Map(events.map((event, index) => [event.id, index + 1]));
  for (const delivery of value<LegacyDelivery[]>("notifyStates") ?? []) {
    sql.exec(
      `INSERT OR IGNORE INTO deliveries (event_id, channel, event_type, seq, status, attempts, last_error, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      delivery.eventId,
      delivery.channel,
      delivery.eventType,
      seqOf.get(delivery.eventId) ?? 0,
      delivery.status,
      delivery.attempts,
      delivery.lastError ?? null,
      delivery.nextAttemptAt,
    );
  }
  const alarmAt = value<number>("alarmAt");
  if (alarmAt !== undefined) sql.exec("INSERT OR REPLACE INTO alarm (singleton, at) VALUES (1, ?)", alarmAt);
  sql.exec("DROP TABLE state");
}
