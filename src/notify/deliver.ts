import type { Logger } from "../lib/log";
import { CircuitOpenError } from "../resilience/errors";
import type { NotificationEvent } from "./events";
import { type Channel, type DeliveryOutcome, type Notifier, describeError, retry, turnedAway } from "./notifier";
import { DEFAULT_SCHEDULE_MS, type NotificationState, applyOutcome, nextAlarmAt } from "./schedule";

export interface DeliverOptions {
  /** The alarm's time: states with nextAttemptAt <= now are attempted. */
  now: number;
  /** Attempt schedule (config.notify.scheduleMs). */
  scheduleMs?: readonly number[];
  /** [0, 1) source for jitter; Math.random by default. */
  random?: () => number;
  /** Reads the time when an attempt ends, which is when its retry is scheduled from. */
  clock?: () => number;
  log?: Logger;
}

/** One attempt, for the job's attempt log. */
export interface AttemptRecord {
  eventId: string;
  eventType: NotificationEvent["type"];
  channel: Channel;
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: DeliveryOutcome;
}

export interface DeliveryRound {
  /** The states to persist, in the order given. */
  states: NotificationState[];
  /** When to set the next alarm, or null when every notification is final. */
  nextAlarmAt: number | null;
  attempts: AttemptRecord[];
}

/**
 * Attempts every notification that is due and returns the states to store. Channels run in
 * parallel; within a channel events go strictly in order, so a later event is sent only once
 * the earlier one is final. Meant to be called from a Durable Object alarm: persist `states`,
 * then set the alarm to `nextAlarmAt`. It never throws for a peer's failure.
 */
export async function deliverDue(
  states: readonly NotificationState[],
  events: readonly NotificationEvent[],
  notifiers: readonly Notifier[],
  options: DeliverOptions,
): Promise<DeliveryRound> {
  const scheduleMs = options.scheduleMs ?? DEFAULT_SCHEDULE_MS;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const byId = new Map(events.map((event) => [event.id, event]));
  const byChannel = new Map(notifiers.map((notifier) => [notifier.channel, notifier]));
  const missing = states.find((state) => state.status === "pending" && !byId.has(state.eventId));
  // A caller bug, not a peer failure: fail the alarm loudly before anything is sent.
  if (missing) throw new Error(`deliverDue: no event ${missing.eventId} (${missing.eventType}) was supplied`);

  const next = [...states];
  const attempts: AttemptRecord[] = [];
  const channels = [...new Set(states.map((state) => state.channel))];

  await Promise.all(
    channels.map(async (channel) => {
      for (let index = 0; index < next.length; index++) {
        const state = next[index];
        if (state === undefined || state.channel !== channel || state.status !== "pending") continue;
        // The earliest pending state of a channel blocks the later ones until it is final.
        if (state.nextAttemptAt === null || state.nextAttemptAt > options.now) return;
        const event = byId.get(state.eventId);
        if (event === undefined) return;
        const startedAt = clock();
        const outcome = await attempt(byChannel.get(channel), channel, event);
        const endedAt = clock();
        const updated = applyOutcome(state, outcome, endedAt, random, scheduleMs);
        next[index] = updated;
        attempts.push({
          eventId: event.id,
          eventType: event.type,
          channel,
          attempt: updated.attempts,
          startedAt,
          durationMs: endedAt - startedAt,
          outcome,
        });
        logAttempt(options.log, event, channel, updated, outcome, endedAt - startedAt);
        if (updated.status === "pending") return;
      }
    }),
  );

  return { states: next, nextAlarmAt: nextAlarmAt(next), attempts };
}

async function attempt(notifier: Notifier | undefined, channel: Channel, event: NotificationEvent): Promise<DeliveryOutcome> {
  // The channel may have been switched off after the job planned it; keep retrying until
  // the schedule runs out, since configuration may come back.
  if (notifier === undefined) return retry(`channel ${channel} is not configured`);
  try {
    return await notifier.send(event);
  } catch (error) {
    if (error instanceof CircuitOpenError) return turnedAway(error);
    return retry(`${channel} delivery failed (internal error)`, undefined, `${channel} notifier threw: ${describeError(error)}`);
  }
}

function logAttempt(
  log: Logger | undefined,
  event: NotificationEvent,
  channel: Channel,
  state: NotificationState,
  outcome: DeliveryOutcome,
  durationMs: number,
): void {
  if (!log) return;
  const fields = {
    msg: "notification attempt",
    component: `notify:${channel}`,
    projectId: event.projectId,
    jobId: event.jobId,
    requestId: event.requestId,
    eventId: event.id,
    eventType: event.type,
    attempt: state.attempts,
    status: state.status,
    durationMs,
    result: outcome.kind,
    ...(outcome.kind === "retry" && outcome.notAttempted ? { notAttempted: true } : {}),
    ...(outcome.kind === "delivered" ? {} : { reason: outcome.reason }),
    ...(outcome.kind !== "delivered" && outcome.detail !== undefined ? { detail: outcome.detail } : {}),
    ...(state.nextAttemptAt === null ? {} : { nextAttemptAt: new Date(state.nextAttemptAt).toISOString() }),
  };
  if (outcome.kind === "delivered") log.info({ ...fields, outcome: "ok" });
  // A channel that is off for this event (no subscription, event not subscribed, receiver said
  // 410) ends the delivery for good without anything going wrong.
  else if (outcome.kind === "gone") log.info(fields);
  else log.warn({ ...fields, outcome: "error" });
}
