import { describe, expect, it } from "vitest";
import { deliverDue } from "../../src/notify/deliver";
import type { NotificationEvent } from "../../src/notify/events";
import type { Channel, DeliveryOutcome, Notifier } from "../../src/notify/notifier";
import { planNotifications } from "../../src/notify/schedule";
import type { LogFields, Logger } from "../../src/lib/log";
import { CircuitOpenError } from "../../src/resilience/errors";
import { eventsFor, testJob } from "../support/notify";

const T0 = Date.UTC(2026, 0, 1);

/** A notifier answering from a script and recording what it was sent, in order. */
function scripted(channel: Channel, answers: (DeliveryOutcome | Error)[]): Notifier & { sent: string[] } {
  const sent: string[] = [];
  return {
    channel,
    sent,
    async send(event: NotificationEvent) {
      sent.push(event.type);
      const answer = answers.shift() ?? { kind: "delivered" };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

function recordingLogger(lines: LogFields[]): Logger {
  const log = (fields: LogFields) => void lines.push(fields);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe("deliverDue", () => {
  it("sends a channel's events in order within one round and reports each attempt", async () => {
    const events = await eventsFor(testJob(), "model.uploaded", "model.processed");
    const sqs = scripted("sqs", []);
    const states = events.flatMap((event) => planNotifications(event, ["sqs"], T0));
    const lines: LogFields[] = [];

    const round = await deliverDue(states, events, [sqs], { now: T0, clock: () => T0, random: () => 0.5, log: recordingLogger(lines) });

    expect(sqs.sent).toEqual(["model.uploaded", "model.processed"]);
    expect(round.states.map((s) => s.status)).toEqual(["delivered", "delivered"]);
    expect(round.nextAlarmAt).toBeNull();
    expect(round.attempts.map((a) => [a.channel, a.eventType, a.attempt, a.outcome.kind])).toEqual([
      ["sqs", "model.uploaded", 1, "delivered"],
      ["sqs", "model.processed", 1, "delivered"],
    ]);
    expect(lines.map((l) => [l.msg, l.outcome, l.eventType])).toEqual([
      ["notification attempt", "ok", "model.uploaded"],
      ["notification attempt", "ok", "model.processed"],
    ]);
  });

  it("logs a channel that is off for the event as information, not as an error", async () => {
    const events = await eventsFor(testJob(), "model.uploaded");
    const webhook = scripted("webhook", [{ kind: "gone", reason: "no webhook subscription for project p" }]);
    const states = events.flatMap((event) => planNotifications(event, ["webhook"], T0));
    const levels: string[] = [];
    const lines: LogFields[] = [];
    const log = (level: string) => (fields: LogFields) => void (levels.push(level), lines.push(fields));
    const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: () => logger };

    await deliverDue(states, events, [webhook], { now: T0, clock: () => T0, random: () => 0.5, log: logger });

    expect(levels).toEqual(["info"]);
    expect(lines[0]).toMatchObject({ msg: "notification attempt", result: "gone", reason: "no webhook subscription for project p" });
    expect(lines[0]?.outcome).toBeUndefined();
  });

  it("holds back a channel's later events while an earlier one retries, without holding back other channels", async () => {
    const events = await eventsFor(testJob(), "model.uploaded", "model.processed");
    const sqs = scripted("sqs", [{ kind: "retry", reason: "SQS answered 503" }]);
    const webhook = scripted("webhook", []);
    const states = events.flatMap((event) => planNotifications(event, ["sqs", "webhook"], T0));
    const lines: LogFields[] = [];

    const round = await deliverDue(states, events, [sqs, webhook], { now: T0, clock: () => T0, random: () => 0.5, log: recordingLogger(lines) });

    expect(sqs.sent).toEqual(["model.uploaded"]);
    expect(webhook.sent).toEqual(["model.uploaded", "model.processed"]);
    expect(round.states.map((s) => `${s.channel}:${s.eventType}:${s.status}`)).toEqual([
      "sqs:model.uploaded:pending",
      "webhook:model.uploaded:delivered",
      "sqs:model.processed:pending",
      "webhook:model.processed:delivered",
    ]);
    expect(round.nextAlarmAt).toBe(T0 + 2_500);
    expect(lines.find((l) => l.outcome === "error")).toMatchObject({ reason: "SQS answered 503", nextAttemptAt: new Date(T0 + 2_500).toISOString() });
  });

  it("does nothing before a state is due", async () => {
    const events = await eventsFor(testJob(), "model.uploaded");
    const sqs = scripted("sqs", []);
    const states = planNotifications(events[0] ?? { id: "", type: "model.uploaded" }, ["sqs"], T0 + 60_000);
    const round = await deliverDue(states, events, [sqs], { now: T0 });
    expect(sqs.sent).toEqual([]);
    expect(round).toEqual({ states, nextAlarmAt: T0 + 60_000, attempts: [] });
  });

  it("turns a throwing notifier and a channel without a notifier into retries", async () => {
    const events = await eventsFor(testJob(), "model.uploaded");
    const states = planNotifications(events[0] ?? { id: "", type: "model.uploaded" }, ["sqs", "queue"], T0);
    const round = await deliverDue(states, events, [scripted("sqs", [new Error("boom")])], { now: T0, clock: () => T0, random: () => 0 });
    expect(round.states.map((s) => [s.channel, s.status, s.lastError])).toEqual([
      ["sqs", "pending", "sqs delivery failed (internal error)"],
      ["queue", "pending", "channel queue is not configured"],
    ]);
  });

  it("turns a notifier that throws CircuitOpenError into a wait that does not count as an attempt", async () => {
    const [uploaded, processed] = await eventsFor(testJob(), "model.uploaded", "model.processed");
    if (!uploaded || !processed) throw new Error("two events");
    const states = [...planNotifications(uploaded, ["sqs"], T0), ...planNotifications(processed, ["sqs"], T0)];
    const sqs = scripted("sqs", [new CircuitOpenError("sqs", 30_000)]);
    const lines: LogFields[] = [];
    const round = await deliverDue(states, [uploaded, processed], [sqs], { now: T0, clock: () => T0, random: () => 0, log: recordingLogger(lines) });
    expect(round.states.map((s) => [s.eventType, s.status, s.attempts, s.nextAttemptAt])).toEqual([
      ["model.uploaded", "pending", 0, T0 + 30_000],
      ["model.processed", "pending", 0, T0],
    ]);
    expect(round.nextAlarmAt).toBe(T0 + 30_000);
    expect(lines[0]).toMatchObject({ result: "retry", notAttempted: true, attempt: 0 });
  });

  it("fails loudly, before sending anything, when an event is missing", async () => {
    const [uploaded, processed] = await eventsFor(testJob(), "model.uploaded", "model.processed");
    if (!uploaded || !processed) throw new Error("two events");
    const sqs = scripted("sqs", []);
    const states = [...planNotifications(uploaded, ["sqs"], T0), ...planNotifications(processed, ["sqs"], T0)];
    await expect(deliverDue(states, [uploaded], [sqs], { now: T0 })).rejects.toThrow(/no event .* \(model.processed\)/);
    expect(sqs.sent).toEqual([]);
  });
});
