import type { NotifyConfig } from "../config";
import type { NotificationEvent } from "./events";
import type { NotifierCircuits } from "./guarded-call";
import type { Channel, Notifier } from "./notifier";
import { queueNotifier } from "./queue";
import { sqsNotifier } from "./sqs";
import { type Resolver, type UrlGuardOptions, dohResolver } from "./ssrf-guard";
import { type WebhookSubscriptions, webhookNotifier } from "./webhook";

export interface NotifierDeps {
  fetch?: typeof fetch;
  /** Overrides the configured resolver (tests inject one; no DNS leaves the machine). */
  resolver?: Resolver | null;
  /** Where webhook subscriptions are read: the project objects, given by the caller. */
  subscriptions: WebhookSubscriptions;
  /** The EVENTS_QUEUE binding, when bound. */
  queue?: Queue<NotificationEvent> | undefined;
  now?: () => number;
  /** Breakers for the sends (`sqs`, `webhook:<host>`); the job object passes its CircuitClient. */
  circuits?: NotifierCircuits;
}

/** The SSRF guard settings for webhook URLs, at registration and at delivery alike. */
export function webhookGuard(config: NotifyConfig, deps: Pick<Partial<NotifierDeps>, "fetch" | "resolver"> = {}): UrlGuardOptions {
  const resolver = deps.resolver !== undefined ? deps.resolver : config.webhook.dnsResolver === "doh" ? dohResolver(deps.fetch) : null;
  return { allowPrivate: config.webhook.allowPrivate, resolver };
}

/**
 * The one place that turns validated config into notifiers. Webhooks are always on (each
 * project opts in by subscribing); SQS when SQS_QUEUE_URL is set; the queue when bound.
 */
export function selectNotifiers(config: NotifyConfig, deps: NotifierDeps): Notifier[] {
  const notifiers: Notifier[] = [];
  if (config.sqs !== null) notifiers.push(sqsNotifier(config.sqs, deps.fetch, undefined, deps.circuits));
  notifiers.push(
    webhookNotifier({
      subscriptions: deps.subscriptions,
      guard: webhookGuard(config, deps),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.circuits ? { circuits: deps.circuits } : {}),
    }),
  );
  if (config.queue && deps.queue) notifiers.push(queueNotifier(deps.queue));
  return notifiers;
}

/** The channels a new event is planned on: exactly those with a notifier. */
export const channelsOf = (notifiers: readonly Notifier[]): Channel[] => notifiers.map((notifier) => notifier.channel);
