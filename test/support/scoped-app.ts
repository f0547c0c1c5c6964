import type { SettingValues } from "../../src/config";
import { env } from "cloudflare:workers";
import { type AppOptions, createApp } from "../../src/app";
import type { CircuitObject } from "../../src/circuits/object";

export interface ScopedApp {
  /** Prefix of this app's circuit object names. */
  scope: string;
  fetch(request: Request, overrides?: SettingValues): Promise<Response>;
  /** The circuit object this app uses for `key`. */
  circuit(key: string): DurableObjectStub<CircuitObject>;
  /** Waits for the background work (outcome reports) of every request so far. */
  settled(): Promise<void>;
}

/**
 * The Worker's app with breakers of its own (a unique circuit scope), so a test can open
 * them without disturbing tests that run beside it, and optionally another storage adapter.
 */
export function scopedApp(options: Omit<AppOptions, "circuitScope"> = {}): ScopedApp {
  const scope = `t-${crypto.randomUUID()}/`;
  const app = createApp({ ...options, circuitScope: scope });
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (promise: Promise<unknown>) => void pending.push(promise),
    passThroughOnException: () => undefined,
    props: {},
  } as unknown as ExecutionContext;
  return {
    scope,
    fetch: async (request, overrides = {}) => app.fetch(request, { ...(env as Env), ...overrides }, ctx),
    circuit: (key) => env.CIRCUITS.get(env.CIRCUITS.idFromName(`${scope}${key}`)),
    settled: async () => {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    },
  };
}
