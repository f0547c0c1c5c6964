import { circuitWaitMs } from "../resilience/backoff";
import type { EventType, NotificationEvent } from "./events";
import type { Channel, DeliveryOutcome } from "./notifier";

/**
 * When attempts happen, as offsets from the first one: about 0 s, 5 s, 30 s, 2 min, 10 min,
 * 30 min, 2 h, 6 h, 12 h and 24 h. Each wait is fully jittered over its gap, so a burst of
 * failures does not come back as a burst of retries.
 */
export const DEFAULT_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
  24 * 3_600_000,
];

/** A peer's Retry-After is honoured, but never beyond a day: the schedule's own horizon. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
const MAX_ERROR_LENGTH = 500;

export type NotificationStatus = "pending" | "delivered" | "failed" | "disabled";

/** Durable state of one event on one channel; stored by the caller (the job DO) as JSON. */
export interface NotificationState {
  eventId: string;
  eventType: EventType;
  channel: Channel;
  status: NotificationStatus;
  attempts: number;
  lastError?: string;
  /** Epoch ms of the next attempt while pending; null once final. */
  nextAttemptAt: number | null;
}

/** The job view's shape (GET /v1/jobs/{jobId} `notifications[]`). */
export interface NotificationView {
  channel: Channel;
  event: EventType;
  status: NotificationStatus;
  attempts: number;
  lastError?: string;
  /** ISO time of the next attempt while pending. */
  nextAttemptAt?: string;
}

/** One pending state per channel for a new event; the first attempt is due at `now + schedule[0]`. */
export function planNotifications(
  event: Pick<NotificationEvent, "id" | "type">,
  channels: readonly Channel[],
  now: number,
  scheduleMs: readonly number[] = DEFAULT_SCHEDULE_MS,
): NotificationState[] {
  const first = now + (scheduleMs[0] ?? 0);
  return channels.map((channel) => ({
    eventId: event.id,
    eventType: event.type,
    channel,
    status: "pending",
    attempts: 0,
    nextAttemptAt: first,
  }));
}

/**
 * The states to attempt now. Within a channel events go out in the order they were planned:
 * only the earliest pending state of each channel is eligible, so `model.processed` never
 * overtakes a `model.uploaded` that is still being retried.
 */
export function nextDue(states: readonly NotificationState[], now: number): NotificationState[] {
  return headsPerChannel(states).filter((state) => state.nextAttemptAt !== null && state.nextAttemptAt <= now);
}

/** When the caller's alarm should fire next, or null when nothing is pending. */
export function nextAlarmAt(states: readonly NotificationState[]): number | null {
  let earliest: number | null = null;
  for (const state of headsPerChannel(states)) {
    if (state.nextAttemptAt !== null && (earliest === null || state.nextAttemptAt < earliest)) earliest = state.nextAttemptAt;
  }
  return earliest;
}

function headsPerChannel(states: readonly NotificationState[]): NotificationState[] {
  const heads = new Map<Channel, NotificationState>();
  for (const state of states) {
    if (state.status === "pending" && !heads.has(state.channel)) heads.set(state.channel, state);
  }
  return [...heads.values()];
}

/**
 * The state after one attempt ended with `outcome` at `now`. `random` returns [0, 1). A
 * retry that was `notAttempted` leaves `attempts` as it was and waits for the breaker.
 */
export function applyOutcome(
  state: NotificationState,
  outcome: DeliveryOutcome,
  now: number,
  random: () => number,
  scheduleMs: readonly number[] = DEFAULT_SCHEDULE_MS,
): NotificationState {
  const attempts = state.attempts + 1;
  const { lastError: _previous, ...rest } = state;
  switch (outcome.kind) {
    case "delivered":
      return { ...rest, status: "delivered", attempts, nextAttemptAt: null };
    case "gone":
      return { ...rest, status: "disabled", attempts, lastError: clip(outcome.reason), nextAttemptAt: null };
    case "failed-permanently":
      return { ...rest, status: "failed", attempts, lastError: clip(outcome.reason), nextAttemptAt: null };
    case "retry": {
      // Turned away by an open breaker: nothing was sent, so the schedule is not used up while
      // the peer is known to be down; the notification waits for the breaker instead.
      if (outcome.notAttempted) {
        const nextAttemptAt = now + circuitWaitMs(outcome.retryAfterMs ?? 0, random);
        return { ...rest, status: "pending", attempts: state.attempts, lastError: clip(outcome.reason), nextAttemptAt };
      }
      if (attempts >= scheduleMs.length) {
        return { ...rest, status: "failed", attempts, lastError: clip(`gave up after ${attempts} attempts: ${outcome.reason}`), nextAttemptAt: null };
      }
      return { ...rest, status: "pending", attempts, lastError: clip(outcome.reason), nextAttemptAt: now + retryDelayMs(attempts, scheduleMs, random, outcome.retryAfterMs) };
    }
  }
}

/**
 * Wait before attempt `attempts + 1`: full jitter over the schedule's gap, uniform in
 * [0, gap], raised to a peer's Retry-After when that is longer.
 */
export function retryDelayMs(attempts: number, scheduleMs: readonly number[], random: () => number, retryAfter?: number): number {
  const gap = Math.max(0, (scheduleMs[attempts] ?? 0) - (scheduleMs[attempts - 1] ?? 0));
  const jittered = Math.floor(Math.min(Math.max(random(), 0), 1) * gap);
  return retryAfter === undefined ? jittered : Math.max(jittered, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
}

export function notificationView(state: NotificationState): NotificationView {
  const view: NotificationView = { channel: state.channel, event: state.eventType, status: state.status, attempts: state.attempts };
  if (state.lastError !== undefined) view.lastError = state.lastError;
  if (state.nextAttemptAt !== null) view.nextAttemptAt = new Date(state.nextAttemptAt).toISOString();
  return view;
}

/** Parses NOTIFY_SCHEDULE_MS ("0,5000,30000"): non-negative, increasing, 1 to 20 entries. */
export function parseSchedule(text: string): { ok: true; value: number[] } | { ok: false; error: string } {
  const parts = text.split(",").map((part) => part.trim());
  const values = parts.map(Number);
  if (parts.length > 20) return { ok: false, error: "at most 20 attempts" };
  if (parts.some((part) => !/^\d+$/.test(part)) || values.some((v) => !Number.isSafeInteger(v))) {
    return { ok: false, error: "must be a comma-separated list of non-negative whole milliseconds" };
  }
  for (let i = 1; i < values.length; i++) {
    if ((values[i] ?? 0) < (values[i - 1] ?? 0)) return { ok: false, error: "offsets must not decrease" };
  }
  return { ok: true, value: values };
}

/**
 * What a tenant may read of a failure: adapters put the peer's own words in `detail` (logged),
 * and this is the net behind them for anything that still names infrastructure.
 */
export function tenantSafe(text: string): string {
  return text
    .replace(/\barn:[^\s,;]+/gi, "<arn>")
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s,;]+/gi, "<address>")
    .replace(/\b[\w.-]+\.amazonaws\.com\S*/gi, "<address>")
    .replace(/\b\d{12}\b/g, "<account>");
}

function clip(text: string): string {
  const safe = tenantSafe(text);
  return safe.length > MAX_ERROR_LENGTH ? `${safe.slice(0, MAX_ERROR_LENGTH - 1)}…` : safe;
}
