import { CircuitOpenError } from "../resilience/errors";
import { webhookCircuitKey } from "../resilience/keys";
import type { EventType, NotificationEvent } from "./events";
import { type NotifierCircuits, PeerAnswer, guardedCall, outcomeOfStatus } from "./guarded-call";
import {
  type DeliveryOutcome,
  type Notifier,
  delivered,
  describeError,
  failedPermanently,
  gone,
  retry,
  retryAfterMs,
  turnedAway,
} from "./notifier";
import { type UrlGuardOptions, checkWebhookUrl } from "./ssrf-guard";
import { signWebhook } from "./webhook-signature";

/** What a delivery needs to know about a project's subscription, secret included. */
export interface WebhookTarget {
  subscriptionId: string;
  url: string;
  events: EventType[];
  secret: string;
  status: "active" | "disabled";
}

/** Where subscriptions live (the project's Durable Object); a port so tests and other stores fit. */
export interface WebhookSubscriptions {
  target(projectId: string): Promise<WebhookTarget | null>;
  /** Disables the subscription, but only if it is still the one with this id (a new PUT wins). */
  disable(projectId: string, subscriptionId: string, reason: string): Promise<void>;
}

export interface WebhookNotifierOptions {
  subscriptions: WebhookSubscriptions;
  guard: UrlGuardOptions;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  /** Breakers per receiver host (`webhook:<host>`); without them every delivery is sent. */
  circuits?: NotifierCircuits;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Delivers events to the project's webhook following the Standard Webhooks spec. The URL is
 * checked again before every delivery; redirects are never followed. With `circuits`, each
 * POST goes through the receiver host's breaker: 5xx, 429, timeouts and network errors count
 * as its failures, and while it is open deliveries are not sent (`turnedAway`).
 */
export function webhookNotifier(options: WebhookNotifierOptions): Notifier {
  const fetcher = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;

  return {
    channel: "webhook",
    async send(event: NotificationEvent): Promise<DeliveryOutcome> {
      let target: WebhookTarget | null;
      try {
        target = await options.subscriptions.target(event.projectId);
      } catch (error) {
        return retry("subscription lookup failed", undefined, `subscription lookup failed: ${describeError(error)}`);
      }
      // Nothing to send to: the channel is off for this event, which is final, not a failure.
      if (target === null) return gone(`no webhook subscription for project ${event.projectId}`);
      if (target.status === "disabled") return gone("the webhook subscription is disabled");
      if (!target.events.includes(event.type)) return gone(`the webhook subscription does not include ${event.type}`);

      const verdict = await checkWebhookUrl(target.url, options.guard);
      if (!verdict.ok) {
        const reason = `webhook URL rejected: ${verdict.reason}`;
        return verdict.transient ? retry(reason) : failedPermanently(reason);
      }

      const body = JSON.stringify(event);
      const timestamp = Math.floor(now() / 1000);
      const headers = {
        "content-type": "application/json",
        "user-agent": "ifc-ingest-webhooks/1",
        "webhook-id": event.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signWebhook(target.secret, event.id, timestamp, body),
      };
      const post = async (signal: AbortSignal): Promise<number> => {
        const response = await fetcher(verdict.url.toString(), { method: "POST", body, redirect: "manual", signal, headers });
        // Only the status matters; reading the body would let a receiver hold the attempt open.
        await response.body?.cancel();
        if (response.status < 200 || response.status >= 300) {
          throw new PeerAnswer(response.status, response.headers, "", outcomeOfStatus(response.status));
        }
        return response.status;
      };
      let answer: PeerAnswer;
      try {
        return delivered(`HTTP ${await guardedCall(options.circuits, webhookCircuitKey(event.projectId, verdict.url), timeoutMs, post)}`);
      } catch (error) {
        if (error instanceof CircuitOpenError) return turnedAway(error);
        if (!(error instanceof PeerAnswer)) return retry(`webhook request failed: ${describeError(error)}`);
        answer = error;
      }
      const status = answer.status;

      if (status === 410) {
        try {
          await options.subscriptions.disable(event.projectId, target.subscriptionId, "receiver answered 410 Gone");
        } catch {
          // The receiver said stop; a failed bookkeeping write must not turn that into a retry.
        }
        return gone("receiver answered 410 Gone; subscription disabled");
      }
      if (status >= 300 && status < 400) return retry(`receiver answered ${status}; redirects are not followed`);
      return retry(`receiver answered ${status}`, retryAfterMs(answer.headers.get("retry-after"), now()));
    },
  };
}
