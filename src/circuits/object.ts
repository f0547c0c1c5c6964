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
import type { RetryKind } from "../resilience/retry-budget";

/** Which dependency a call is about, and the settings of the deployment asking. */
export interface CircuitRef {
  key: string;
  policy: CircuitPolicy;
}

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
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS circuit (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS known_keys (key TEXT PRIMARY KEY, first_seen INTEGER NOT NULL)");
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
    return decided.admission;
  }

  /** Records how an admitted call ended; answers the breaker as it now stands. */
  async report(ref: CircuitRef, report: OutcomeReport, now: number): Promise<BreakerView> {
    const state = reportCall(this.#load(ref), report, now, ref.policy);
    this.#save(state);
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

  /** Registry role: remembers a key (idempotent). */
  async register(key: string, now: number): Promise<void> {
    if (!isCircuitKey(key)) throw new TypeError(`not a circuit key: ${key}`);
    this.ctx.storage.sql.exec("INSERT INTO known_keys (key, first_seen) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", key, now);
  }

  /** Registry role: the keys remembered, oldest first. */
  async keys(): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ key: string }>("SELECT key FROM known_keys ORDER BY first_seen, key")
      .toArray()
      .map((row) => row.key);
  }
}
