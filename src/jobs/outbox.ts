import type { CircuitClient } from "../circuits/client";
import { type Config, eventsQueue } from "../config";
import type { Logger } from "../lib/log";
import { type DeliveryRound, deliverDue } from "../notify/deliver";
import { type EventType, buildEvent } from "../notify/events";
import { type NotificationState, planNotifications } from "../notify/schedule";
import { channelsOf, selectNotifiers } from "../notify/select-notifiers";
import { durableWebhookSubscriptions } from "../projects/client";
import type { JobRecord } from "./record";
import type { JobState, PlannedEvent } from "./state";

export interface OutboxDeps {
  config: Config;
  env: Env;
  random?: () => number;
}

/**
 * The job's notifications: events are planned here (built before the state change that
 * causes them, so the change and its event are written in one transaction) and delivered
 * from the job's alarm, with each attempt's result kept on the job.
 */
export class Outbox {
  readonly #deps: OutboxDeps;

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
  }

  /** One event on every configured channel, first attempt per the schedule from `now`. */
  async plan(type: EventType, record: JobRecord, now: number): Promise<PlannedEvent> {
    const event = await buildEvent(type, record, {
      createdAt: new Date(now),
      summary: type === "model.processed" ? (record.summary ?? null) : null,
      error: type === "model.failed" ? (record.error ?? null) : null,
    });
    const channels = channelsOf(this.#notifiers());
    return { event, deliveries: planNotifications(event, channels, now, this.#deps.config.notify.scheduleMs) };
  }

  /** Whether any delivery is due by `now`. */
  static due(states: readonly NotificationState[], now: number): boolean {
    return states.some((state) => state.status === "pending" && state.nextAttemptAt !== null && state.nextAttemptAt <= now);
  }

  /**
   * Attempts every delivery due by `now`. Sends go through the `sqs` and `webhook:<host>`
   * breakers; a send an open breaker turns away is not counted and waits for the breaker.
   */
  async deliver(state: JobState, now: number, log: Logger, circuits: CircuitClient): Promise<DeliveryRound> {
    const { config, random } = this.#deps;
    return deliverDue(state.deliveries(), state.events(), this.#notifiers(circuits), {
      now,
      scheduleMs: config.notify.scheduleMs,
      log,
      ...(random ? { random } : {}),
    });
  }

  #notifiers(circuits?: CircuitClient) {
    const { config, env } = this.#deps;
    return selectNotifiers(config.notify, {
      queue: eventsQueue(env),
      subscriptions: durableWebhookSubscriptions(env.PROJECTS),
      ...(circuits ? { circuits } : {}),
    });
  }
}
