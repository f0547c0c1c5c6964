import { describe, expect, it } from "vitest";
import {
  DEFAULT_SCHEDULE_MS,
  MAX_RETRY_AFTER_MS,
  type NotificationState,
  applyOutcome,
  nextAlarmAt,
  nextDue,
  notificationView,
  parseSchedule,
  planNotifications,
  retryDelayMs,
} from "../../src/notify/schedule";

const T0 = Date.UTC(2026, 0, 1);
const uploaded = { id: "e-uploaded", type: "model.uploaded" } as const;
const processed = { id: "e-processed", type: "model.processed" } as const;
const one = () => 0.999_999;
const zero = () => 0;

function pending(overrides: Partial<NotificationState> = {}): NotificationState {
  const [state] = planNotifications(uploaded, ["webhook"], T0);
  if (!state) throw new Error("no state planned");
  return { ...state, ...overrides };
}

describe("notification schedule", () => {
  it("spreads ten attempts over a day: 0 s, 5 s, 30 s, 2 min, 10 min, 30 min, 2 h, 6 h, 12 h, 24 h", () => {
    expect(DEFAULT_SCHEDULE_MS).toEqual([0, 5e3, 30e3, 120e3, 600e3, 1_800e3, 7_200e3, 21_600e3, 43_200e3, 86_400e3]);
  });

  it("plans one pending state per channel, due at once", () => {
    expect(planNotifications(uploaded, ["sqs", "webhook"], T0)).toEqual([
      { eventId: "e-uploaded", eventType: "model.uploaded", channel: "sqs", status: "pending", attempts: 0, nextAttemptAt: T0 },
      { eventId: "e-uploaded", eventType: "model.uploaded", channel: "webhook", status: "pending", attempts: 0, nextAttemptAt: T0 },
    ]);
  });

  it("finishes a notification when it is delivered", () => {
    const state = applyOutcome(pending({ attempts: 2, lastError: "receiver answered 500" }), { kind: "delivered" }, T0, one);
    expect(state).toEqual({ ...pending(), status: "delivered", attempts: 3, nextAttemptAt: null });
  });

  it("disables the notification when the receiver is gone and fails it when no retry can help", () => {
    expect(applyOutcome(pending(), { kind: "gone", reason: "410" }, T0, one)).toMatchObject({ status: "disabled", lastError: "410", nextAttemptAt: null });
    expect(applyOutcome(pending(), { kind: "failed-permanently", reason: "bad" }, T0, one)).toMatchObject({ status: "failed", lastError: "bad", nextAttemptAt: null });
  });

  it("schedules a retry within the gap to the next attempt, with full jitter", () => {
    const late = applyOutcome(pending(), { kind: "retry", reason: "503" }, T0, one);
    expect(late).toMatchObject({ status: "pending", attempts: 1, lastError: "503" });
    expect(late.nextAttemptAt).toBe(T0 + 4_999);
    expect(applyOutcome(pending(), { kind: "retry", reason: "503" }, T0, zero).nextAttemptAt).toBe(T0);
    const third = applyOutcome(pending({ attempts: 2 }), { kind: "retry", reason: "503" }, T0, () => 0.5);
    expect(third.nextAttemptAt).toBe(T0 + (120_000 - 30_000) / 2);
  });

  it("never waits longer than the whole schedule across all retries", () => {
    let state = pending();
    let now = T0;
    while (state.status === "pending") {
      now = state.nextAttemptAt ?? now;
      state = applyOutcome(state, { kind: "retry", reason: "down" }, now, one);
    }
    expect(state.attempts).toBe(10);
    expect(now - T0).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it("gives up after the last scheduled attempt and says why", () => {
    const state = applyOutcome(pending({ attempts: 9 }), { kind: "retry", reason: "receiver answered 500" }, T0, one);
    expect(state).toMatchObject({ status: "failed", attempts: 10, nextAttemptAt: null, lastError: "gave up after 10 attempts: receiver answered 500" });
  });

  it("honours a peer's Retry-After when it is longer than the jittered wait, up to a day", () => {
    expect(retryDelayMs(1, DEFAULT_SCHEDULE_MS, zero, 60_000)).toBe(60_000);
    expect(retryDelayMs(1, DEFAULT_SCHEDULE_MS, one, 1_000)).toBe(4_999);
    expect(retryDelayMs(1, DEFAULT_SCHEDULE_MS, zero, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
    const state = applyOutcome(pending(), { kind: "retry", reason: "429", retryAfterMs: 60_000 }, T0, zero);
    expect(state.nextAttemptAt).toBe(T0 + 60_000);
  });

  it("does not count a send the open breaker turned away, and waits for the breaker instead", () => {
    const turnedAway = { kind: "retry", reason: "not sent: the webhook:p1:hooks.example.com circuit breaker is open", retryAfterMs: 42_000, notAttempted: true } as const;
    const state = applyOutcome(pending({ attempts: 3 }), turnedAway, T0, zero);
    expect(state).toMatchObject({ status: "pending", attempts: 3, nextAttemptAt: T0 + 42_000, lastError: turnedAway.reason });
    // However long the breaker stays open, the schedule is not used up by it.
    let waiting = pending({ attempts: DEFAULT_SCHEDULE_MS.length - 1 });
    for (let i = 0; i < 50; i++) waiting = applyOutcome(waiting, turnedAway, T0, one);
    expect(waiting).toMatchObject({ status: "pending", attempts: DEFAULT_SCHEDULE_MS.length - 1 });
    expect(waiting.nextAttemptAt).toBe(T0 + 42_000 + 999);
  });

  it("clips long errors so job records stay small", () => {
    const state = applyOutcome(pending(), { kind: "retry", reason: "x".repeat(2_000) }, T0, one);
    expect(state.lastError?.length).toBe(500);
  });

  it("keeps events of one channel in order: a later event waits for the earlier one", () => {
    const states = [...planNotifications(uploaded, ["sqs", "webhook"], T0), ...planNotifications(processed, ["sqs", "webhook"], T0)];
    expect(nextDue(states, T0).map((s) => `${s.channel}:${s.eventId}`)).toEqual(["sqs:e-uploaded", "webhook:e-uploaded"]);

    const [sqsUploaded, webhookUploaded, sqsProcessed, webhookProcessed] = states;
    if (!sqsUploaded || !webhookUploaded || !sqsProcessed || !webhookProcessed) throw new Error("planned four states");
    const afterRound = [
      applyOutcome(sqsUploaded, { kind: "delivered" }, T0, one),
      applyOutcome(webhookUploaded, { kind: "retry", reason: "500" }, T0, one),
      sqsProcessed,
      webhookProcessed,
    ];
    expect(nextDue(afterRound, T0).map((s) => `${s.channel}:${s.eventId}`)).toEqual(["sqs:e-processed"]);
    expect(nextAlarmAt(afterRound)).toBe(T0);
  });

  it("sets the next alarm to the earliest pending head, or none when all are final", () => {
    const waiting = [pending({ nextAttemptAt: T0 + 9_000 }), { ...pending({ nextAttemptAt: T0 + 3_000 }), channel: "sqs" as const }];
    expect(nextAlarmAt(waiting)).toBe(T0 + 3_000);
    expect(nextDue(waiting, T0)).toEqual([]);
    expect(nextAlarmAt([pending({ status: "delivered", nextAttemptAt: null })])).toBeNull();
  });

  it("shows a job view without internals", () => {
    expect(notificationView(pending({ attempts: 1, lastError: "500" }))).toEqual({
      channel: "webhook",
      event: "model.uploaded",
      status: "pending",
      attempts: 1,
      lastError: "500",
      nextAttemptAt: expect.any(String),
    });
    expect(notificationView(pending())).not.toHaveProperty("lastError");
    expect(notificationView({ ...pending(), status: "delivered", nextAttemptAt: null })).not.toHaveProperty("nextAttemptAt");
  });

  it.each([
    ["0,50,100", { ok: true, value: [0, 50, 100] }],
    [" 0, 5000 ", { ok: true, value: [0, 5000] }],
    ["", { ok: false }],
    ["0,-5", { ok: false }],
    ["0,1.5", { ok: false }],
    ["100,50", { ok: false, error: "offsets must not decrease" }],
    [Array.from({ length: 21 }, (_, i) => i).join(","), { ok: false, error: "at most 20 attempts" }],
  ])("parses NOTIFY_SCHEDULE_MS %j", (text, expected) => {
    expect(parseSchedule(text)).toMatchObject(expected);
  });
});
