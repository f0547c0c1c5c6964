import { DurableObject } from "cloudflare:workers";
import type { Admission } from "../resilience/breaker";
import {
  type BreakerView,
  type CircuitPolicy,
  type CircuitSnapshot,
  type CircuitState,
  type OutcomeReport,
  admitCall,
  breakerView,
  initialCircuit,
  releaseCallProbe,
  reportCall,
  snapshotOf,
  spendRetryToken,
} from "../resilience/circuit-state";
import { isCircuitKey } from "../resilience/keys";
import type { TimedReport } from "./outcome-batches";
import type { RetryKind } from "../resilience/retry-budget";

/** Which dependency a call is about, and the settings of the deployment asking. */
export interface CircuitRef {
  key: string;
  policy: CircuitPolicy;
}

/**
 * A breaker, or a registry entry, unused for this long is removed: webhook keys are per project
 * and host, so without it their number would only grow.
 */
export const CIRCUIT_IDLE_TTL_MS = 7 * 24 * 3_600_000;

/** Name of the object that lists the keys seen, next to the one-per-key circuit objects. */
export const REGISTRY_OBJECT = "@registry";

/**
 * One object per dependency key (`storage`, `sqs`, `processor`, `webhook:<host>`): the one
 * place where that dependency's breaker, retry budget and counters live, so every isolate
 * anywhere sees the same breaker. Every method is synchronous SQL between reads and writes,
 * so the object's input gate makes each call atomic. The object named REGISTRY_OBJECT keeps
 * the list of keys instead.
 *
 * Settings travel with each call rather than being read here: they are the calling
 * deployment's validated config, and an object stays correct across a settings change.
 */
export class CircuitObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#schema();
  }

  #schema(): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS circuit (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS activity (id INTEGER PRIMARY KEY CHECK (id = 1), touched_at INTEGER NOT NULL, alarm_at INTEGER NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS known_keys (key TEXT PRIMARY KEY, first_seen INTEGER NOT NULL)");
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(known_keys)").toArray();
    if (!columns.some((column) => column.name === "last_seen")) {
      sql.exec("ALTER TABLE known_keys ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0");
      sql.exec("UPDATE known_keys SET last_seen = first_seen");
    }
  }

  /**
   * Notes that the key was used now and keeps an alarm about CIRCUIT_IDLE_TTL_MS ahead, so
   * an object nobody uses any more removes itself (webhook keys come and go with tenants' hosts).
   * The alarm moves only when it is less than half the TTL away: one write, not one per call.
   */
  async #touch(): Promise<void> {
    // The runtime's clock, not the caller's: the alarm that compares against it runs on it too.
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ alarm_at: number }>("SELECT alarm_at FROM activity WHERE id = 1").toArray()[0];
    const moveAlarm = row === undefined || row.alarm_at - now < CIRCUIT_IDLE_TTL_MS / 2;
    const alarmAt = moveAlarm ? now + CIRCUIT_IDLE_TTL_MS : (row?.alarm_at ?? now + CIRCUIT_IDLE_TTL_MS);
    sql.exec(
      "INSERT INTO activity (id, touched_at, alarm_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET touched_at = excluded.touched_at, alarm_at = excluded.alarm_at",
      now,
      alarmAt,
    );
    if (moveAlarm) await this.ctx.storage.setAlarm(alarmAt);
  }

  /** Idle for the whole TTL: everything goes (the next call starts from a closed breaker). */
  override async alarm(): Promise<void> {
    const row = this.ctx.storage.sql.exec<{ touched_at: number }>("SELECT touched_at FROM activity WHERE id = 1").toArray()[0];
    if (row === undefined || Date.now() - row.touched_at >= CIRCUIT_IDLE_TTL_MS) {
      await this.ctx.storage.deleteAll();
      // This instance may serve calls again before it is evicted.
      this.#schema();
      return;
    }
    await this.ctx.storage.setAlarm(row.touched_at + CIRCUIT_IDLE_TTL_MS);
  }

  #load(ref: CircuitRef): CircuitState {
    if (!isCircuitKey(ref.key)) throw new TypeError(`not a circuit key: ${ref.key}`);
    const row = this.ctx.storage.sql.exec<{ state: string }>("SELECT state FROM circuit WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.state) as CircuitState) : initialCircuit(ref.key, ref.policy);
  }

  #save(state: CircuitState): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO circuit (id, state) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
      JSON.stringify(state),
    );
  }

  /** May a call go ahead? `localRejections`: calls isolates turned away from their cache meanwhile. */
  async admit(ref: CircuitRef, now: number, localRejections = 0): Promise<Admission> {
    const decided = admitCall(this.#load(ref), now, ref.policy, localRejections);
    this.#save(decided.state);
    await this.#touch();
    return decided.admission;
  }

  /** Records how an admitted call ended; answers the breaker as it now stands. */
  async report(ref: CircuitRef, report: OutcomeReport, now: number): Promise<BreakerView> {
    return this.reportBatch(ref, [{ report, at: now }]);
  }

  /** Records how several calls ended, in the order given, as one write; answers the breaker after the last. */
  async reportBatch(ref: CircuitRef, reports: readonly TimedReport[]): Promise<BreakerView> {
    let state = this.#load(ref);
    let now = 0;
    for (const { report, at } of reports) {
      state = reportCall(state, report, at, ref.policy);
      now = Math.max(now, at);
    }
    this.#save(state);
    await this.#touch();
    return breakerView(state, now, ref.policy);
  }

  /** Frees the half-open probe slot of a call that was admitted as the probe but never ran. */
  async releaseProbe(ref: CircuitRef, now: number): Promise<BreakerView> {
    const state = releaseCallProbe(this.#load(ref));
    this.#save(state);
    return breakerView(state, now, ref.policy);
  }

  /** Takes a retry's cost from the budget; false means do not retry. */
  async spendRetry(ref: CircuitRef, kind: RetryKind): Promise<boolean> {
    const spent = spendRetryToken(this.#load(ref), kind, ref.policy);
    this.#save(spent.state);
    return spent.allowed;
  }

  /** Read-only: a key never used answers its initial state without storing anything. */
  async snapshot(ref: CircuitRef, now: number): Promise<CircuitSnapshot> {
    return snapshotOf(this.#load(ref), now, ref.policy);
  }

  /** Registry role: remembers a key and when it was last used (idempotent). */
  async register(key: string, now: number): Promise<void> {
    if (!isCircuitKey(key)) throw new TypeError(`not a circuit key: ${key}`);
    this.ctx.storage.sql.exec(
      "INSERT INTO known_keys (key, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
      key,
      now,
      now,
    );
  }

  /** Registry role: the keys used within CIRCUIT_IDLE_TTL_MS, oldest first; older ones are forgotten. */
  async keys(now: number = Date.now()): Promise<string[]> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM known_keys WHERE last_seen < ?", now - CIRCUIT_IDLE_TTL_MS);
    return sql
      .exec<{ key: string }>("SELECT key FROM known_keys ORDER BY first_seen, key")
      .toArray()
      .map((row) => row.key);
  }
}
