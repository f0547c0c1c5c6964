/**
 * The isolate's side of the circuit breakers: longer than our files usually are because the
 * module-level cache, admission, `guard()` and background reporting share the cached views
 * and must change together.
 */
import { BoundedMap } from "../lib/bounded-map";
import type { Logger } from "../lib/log";
import type { CircuitObject, CircuitRef } from "./object";
import { REGISTRY_OBJECT } from "./object";
import type { Admission, CallOutcome } from "../resilience/breaker";
import type { BreakerView, CircuitPolicy, CircuitSnapshot, OutcomeReport } from "../resilience/circuit-state";
import { CircuitOpenError, DependencyTimeoutError } from "../resilience/errors";
import { FIXED_CIRCUIT_KEYS, isCircuitKey } from "../resilience/keys";
import {
  type LocalView,
  countLocalRejection,
  decideLocally,
  viewAfterOutcome,
  viewFromObject,
} from "../resilience/local-view";
import type { RetryKind } from "../resilience/retry-budget";
import { withDeadline } from "../lib/deadline";
import { OutcomeBatches } from "./outcome-batches";
import type { ResilienceConfig } from "./settings";

/**
 * Isolate-level caches hold at most this many keys. Keys include a `webhook:<host>` per
 * receiver host that tenants choose, so an isolate that lives long would otherwise keep one
 * entry per host it ever called; a dropped entry costs one Durable Object trip.
 */
const CACHED_CIRCUIT_KEYS = 1024;
/**
 * This isolate's cached breaker views, keyed by object name. Module-level on purpose: it
 * outlives requests, so only the first call per second and key pays a Durable Object trip.
 */
const views = new BoundedMap<string, LocalView>(CACHED_CIRCUIT_KEYS);
/** Keys this isolate has written to the registry, and when: refreshed hourly, so used keys never expire. */
const registered = new BoundedMap<string, number>(CACHED_CIRCUIT_KEYS);
const REREGISTER_MS = 3_600_000;
/** This isolate's outcome reports on their way to the objects. */
const reports = new OutcomeBatches();

export type Classifier = (error: unknown) => CallOutcome;

/** Default: an error that says `retryable === false` is the caller's fault (a 4xx); any other is a failure. */
export const defaultClassifier: Classifier = (error) =>
  typeof error === "object" && error !== null && "retryable" in error && error.retryable === false ? "client-error" : "failure";

export interface CircuitClientOptions {
  namespace: DurableObjectNamespace<CircuitObject>;
  policy: CircuitPolicy;
  /** Keeps background reports alive after the response (ExecutionContext.waitUntil). */
  waitUntil?: (promise: Promise<unknown>) => void;
  now?: () => number;
  log?: Logger;
  /** Prefix of object names and cache keys, so tests running side by side do not share breakers. */
  scope?: string;
}

/** Leave to make one call; a half-open probe's permit must be used or released. */
export class Permit {
  #used = false;
  constructor(
    readonly key: string,
    readonly probe: boolean,
  ) {}
  get used(): boolean {
    return this.#used;
  }
  /** @internal marks the permit spent; a permit admits one call. */
  take(): void {
    if (this.#used) throw new Error(`the permit for ${this.key} was already used`);
    this.#used = true;
  }
}

export interface GuardOptions {
  client: CircuitClient;
  /**
   * Deadline for the call; its AbortSignal is passed to fn. Undefined: fn times its own waits
   * (an upload, whose length depends on the client, times only the waits on storage).
   */
  timeoutMs: number | undefined;
  /** Turns fn's errors into outcomes; timeouts are recognised before it is asked. */
  classify?: Classifier;
  /** Admission already granted (e.g. checked before reading a request body). */
  permit?: Permit;
}

export interface GuardTools {
  /** Asks the retry budget before an inline retry; false means give up now. */
  spendRetry(kind: RetryKind): Promise<boolean>;
}

/**
 * Runs one call to a dependency behind its circuit breaker: rejects at once with
 * CircuitOpenError while the breaker is open, gives the call a deadline, and reports the
 * outcome in the background. Count once per guarded operation: put inline retries inside fn.
 */
export async function guard<T>(
  key: string,
  fn: (signal: AbortSignal, tools: GuardTools) => Promise<T>,
  options: GuardOptions,
): Promise<T> {
  const { client } = options;
  const permit = options.permit ?? (await client.admit(key));
  if (permit.key !== key) throw new Error(`a permit for ${permit.key} cannot admit a call to ${key}`);
  permit.take();
  const classify = options.classify ?? defaultClassifier;
  const started = client.now();
  const { timeoutMs } = options;
  const signal = timeoutMs === undefined ? new AbortController().signal : AbortSignal.timeout(timeoutMs);
  const tools: GuardTools = { spendRetry: (kind) => client.spendRetry(key, kind) };
  try {
    const work = fn(signal, tools);
    const result = await (timeoutMs === undefined
      ? work
      : withDeadline(work, signal, () => new DependencyTimeoutError(key, timeoutMs, { cause: signal.reason })));
    client.settle(key, { outcome: "success", latencyMs: client.now() - started, probe: permit.probe });
    return result;
  } catch (error) {
    const classified = error instanceof DependencyTimeoutError ? "timeout" : classify(error);
    // fn may surface the abort as its own error; the deadline is still what ended it.
    const outcome: CallOutcome = classified === "client-error" || !signal.aborted ? classified : "timeout";
    client.settle(key, { outcome, latencyMs: client.now() - started, probe: permit.probe });
    throw error;
  }
}

/**
 * Talks to the Circuit objects for one request, through this isolate's cached views.
 * Cheap to create: all state lives in the objects and the module-level cache.
 */
export class CircuitClient {
  readonly now: () => number;
  readonly #options: CircuitClientOptions;

  constructor(options: CircuitClientOptions) {
    this.#options = options;
    this.now = options.now ?? Date.now;
  }

  /** The client for one request or alarm, with the configured breaker and budget policy. */
  static fromConfig(
    resilience: ResilienceConfig,
    namespace: CircuitClientOptions["namespace"],
    options: Pick<CircuitClientOptions, "waitUntil" | "log" | "scope">,
  ): CircuitClient {
    return new CircuitClient({ namespace, policy: { breaker: resilience.breaker, budget: resilience.retryBudget }, ...options });
  }

  get policy(): CircuitPolicy {
    return this.#options.policy;
  }

  #name(key: string): string {
    if (!isCircuitKey(key) && key !== REGISTRY_OBJECT) throw new TypeError(`not a circuit key: ${key}`);
    return `${this.#options.scope ?? ""}${key}`;
  }

  #stub(name: string): DurableObjectStub<CircuitObject> {
    const { namespace } = this.#options;
    return namespace.get(namespace.idFromName(name));
  }

  #ref(key: string): CircuitRef {
    return { key, policy: this.#options.policy };
  }

  #background(what: string, key: string, work: Promise<unknown>): void {
    const settled = work.catch((error: unknown) =>
      this.#options.log?.warn({ msg: `circuit ${what} failed`, component: "circuit", key, error: String(error) }),
    );
    if (this.#options.waitUntil) this.#options.waitUntil(settled);
    else void settled;
  }

  /**
   * Admission for one call, from the cache when it is fresh, else from the object.
   * Throws CircuitOpenError when the breaker turns the call away.
   */
  async admit(key: string): Promise<Permit> {
    const name = this.#name(key);
    const now = this.now();
    const cached = views.get(name);
    const local = decideLocally(cached, now);
    if (local.kind === "allow") return new Permit(key, false);
    if (local.kind === "reject" && cached) {
      views.set(name, countLocalRejection(cached));
      throw new CircuitOpenError(key, local.retryAfterMs, local.state);
    }
    this.#register(key);
    let admission: Admission;
    try {
      admission = await this.#stub(name).admit(this.#ref(key), now, cached?.pendingRejections ?? 0);
    } catch (error) {
      // The breaker's own store failing must not take the dependency down with it: fail open.
      this.#options.log?.warn({ msg: "circuit admission failed; letting the call through", component: "circuit", key, error: String(error) });
      return new Permit(key, false);
    }
    views.set(name, viewFromObject(views.get(name), admission, now, now));
    if (!admission.allowed) throw new CircuitOpenError(key, admission.retryAfterMs, admission.state);
    return new Permit(key, admission.probe);
  }

  /** Frees an unused probe permit, so the next caller can probe instead of waiting for the lease. */
  release(permit: Permit): void {
    if (permit.used || !permit.probe) return;
    permit.take();
    const name = this.#name(permit.key);
    const askedAt = this.now();
    this.#background(
      "release",
      permit.key,
      this.#stub(name)
        .releaseProbe(this.#ref(permit.key), askedAt)
        .then((view) => this.#apply(name, view, askedAt)),
    );
  }

  /**
   * Updates this isolate's view at once, then tells the object without holding up the caller,
   * batched with the other reports of this isolate (see OutcomeBatches).
   */
  settle(key: string, report: OutcomeReport): void {
    const name = this.#name(key);
    const at = this.now();
    const local = viewAfterOutcome(views.get(name), report.outcome, at, this.#options.policy.breaker);
    if (local) views.set(name, local);
    else views.delete(name);
    const sending = reports.add(name, { report, at }, async (batch) => {
      const sentAt = this.now();
      try {
        this.#apply(name, await this.#stub(name).reportBatch(this.#ref(key), batch), sentAt);
      } catch (error) {
        this.#options.log?.warn({ msg: "circuit report failed", component: "circuit", key, reports: batch.length, error: String(error) });
      }
    });
    if (sending) this.#background("report", key, sending);
  }

  #apply(name: string, view: BreakerView, askedAt: number): void {
    views.set(name, viewFromObject(views.get(name), view, this.now(), askedAt));
  }

  /**
   * Takes one retry's cost from the key's budget. When the object cannot be reached the retry
   * is allowed, as admission fails open: the adapter's attempt limit still bounds it.
   */
  async spendRetry(key: string, kind: RetryKind): Promise<boolean> {
    const name = this.#name(key);
    try {
      return await this.#stub(name).spendRetry(this.#ref(key), kind);
    } catch (error) {
      this.#options.log?.warn({ msg: "retry budget unreachable; allowing the retry", component: "circuit", key, error: String(error) });
      return true;
    }
  }

  /** The key's budget as an adapter's inline-retry hook (S3Runtime.spendRetry). */
  retryBudget(key: string): (kind: RetryKind) => Promise<boolean> {
    return (kind) => this.spendRetry(key, kind);
  }

  snapshot(key: string): Promise<CircuitSnapshot> {
    return this.#stub(this.#name(key)).snapshot(this.#ref(key), this.now());
  }

  /** The fixed keys and every key the registry has seen. */
  async knownKeys(): Promise<string[]> {
    const seen = await this.#stub(this.#name(REGISTRY_OBJECT)).keys(this.now());
    return [...new Set<string>([...FIXED_CIRCUIT_KEYS, ...seen])];
  }

  async snapshots(): Promise<CircuitSnapshot[]> {
    const keys = await this.knownKeys();
    return Promise.all(keys.map((key) => this.snapshot(key)));
  }

  guard<T>(key: string, fn: (signal: AbortSignal, tools: GuardTools) => Promise<T>, options: Omit<GuardOptions, "client">): Promise<T> {
    return guard(key, fn, { ...options, client: this });
  }

  /** Records a non-fixed key (a webhook host) once per isolate, so operators can list it. */
  #register(key: string): void {
    if ((FIXED_CIRCUIT_KEYS as readonly string[]).includes(key)) return;
    const name = this.#name(key);
    const now = this.now();
    const last = registered.get(name);
    if (last !== undefined && now - last < REREGISTER_MS) return;
    registered.set(name, now);
    this.#background(
      "registration",
      key,
      this.#stub(this.#name(REGISTRY_OBJECT))
        .register(key, now)
        .catch((error: unknown) => {
          registered.delete(name);
          throw error;
        }),
    );
  }
}
