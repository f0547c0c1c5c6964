/** Dependency keys with a circuit of their own; webhook receivers get one per host. */
export const FIXED_CIRCUIT_KEYS = ["storage", "sqs", "processor"] as const;

export type FixedCircuitKey = (typeof FIXED_CIRCUIT_KEYS)[number];

// A host name (underscores occur in real ones), or a bracketed IPv6 literal, and a port.
const WEBHOOK_KEY = /^webhook:([a-z0-9._-]{1,253}|\[[0-9a-f:.]{2,45}\])(:\d{1,5})?$/;

export function isCircuitKey(key: string): boolean {
  return (FIXED_CIRCUIT_KEYS as readonly string[]).includes(key) || WEBHOOK_KEY.test(key);
}

/** `webhook:<host>` for a receiver URL; the host is lower-cased so one receiver has one breaker. */
export function webhookCircuitKey(url: string | URL): string {
  return `webhook:${new URL(url).host.toLowerCase()}`;
}
