import type { NotificationEvent } from "./events";
import { type DeliveryOutcome, type Notifier, delivered, describeError, retry } from "./notifier";

/** Sends events to a Cloudflare Queue (binding EVENTS_QUEUE) for consumers inside Cloudflare. */
export function queueNotifier(queue: Queue<NotificationEvent>): Notifier {
  return {
    channel: "queue",
    async send(event: NotificationEvent): Promise<DeliveryOutcome> {
      try {
        await queue.send(event, { contentType: "json" });
        return delivered();
      } catch (error) {
        return retry("queue send failed", undefined, `queue send failed: ${describeError(error)}`);
      }
    },
  };
}
