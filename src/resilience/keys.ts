/** Dependency keys with a circuit of their own; webhook receivers get one per project and host. */
export const FIXED_CIRCUIT_KEYS = ["storage", "sqs", "processor"] as const;

export type FixedCircuitKey = (typeof FIXED_CIRCUIT_KEYS)[number];

// A project id, then a host name (underscores occur in real ones) or a bracketed IPv6 literal, and a port.
const WEBHOOK_KEY = /^webhook:([A-Za-z0-9_-]{1,64}):([a-z0-9._-]{1,253}|\[[0-9a-f:.]{2,45}\])(:\d{1,5})?$/;

export function isCircuitKey(key: string): boolean {
  return (FIXED_CIRCUIT_KEYS as readonly string[]).includes(key) || WEBHOOK_KEY.test(key);
}

/**
 * `webhook:<project>:<host>` for a project's receiver URL. Per project, so one tenant's failing
 * receiver (or a host it points many subscriptions at) never turns another tenant's deliveries
 * away; the host is lower-cased so one receiver has one breaker per project.
 */
export function webhookCircuitKey(projectId: string, url: string | URL): string {
  return `webhook:${projectId}:${new URL(url).host.toLowerCase()}`;
}

/** The project a webhook key belongs to, or undefined for the shared keys. */
export function circuitKeyProject(key: string): string | undefined {
  return WEBHOOK_KEY.exec(key)?.[1];
}
