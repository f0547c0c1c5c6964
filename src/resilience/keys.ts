/** Dependency keys with a circuit of their own; webhook receivers get one per host. */
export const FIXED_CIRCUIT_KEYS = ["storage", "sqs", "processor"] as const;

export type FixedCircuitKey = (typeof FIXED_CIRCUIT_KEYS)[number];

const WEBHOOK_KEY = /^webhook:[a-z0-9.-]{1,253}(:\d{1,5})?$/;

export function isCircuitKey(key: string): boolean {
  return (FIXED_CIRCUIT_KEYS as readonly string[]).includes(key) || WEBHOOK_KEY.test(key);
}

/** `webhook:<host>` for a receiver URL; the host is lower-cased so one receiver has one breaker. */
export function webhookCircuitKey(url: string | URL): string {
  return `webhook:${new URL(url).host.toLowerCase()}`;
}
