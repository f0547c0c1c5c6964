import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import type { LogFields, Logger } from "../../src/lib/log";
import { deliverDue } from "../../src/notify/deliver";
import type { NotificationEvent } from "../../src/notify/events";
import { planNotifications } from "../../src/notify/schedule";
import { selectNotifiers } from "../../src/notify/select-notifiers";
import { durableWebhookSubscriptions } from "../../src/projects/client";
import { sqsNotifier } from "../../src/notify/sqs";
import { createQueue, eventsFor, receiveAll, sqsEnv, sqsSettings, testJob, uniqueId } from "../support/notify";

describe("SQS notifications against fauxqs", () => {
  it("delivers model.uploaded then model.processed in order, with attributes, read back by the AWS SDK", async () => {
    const queueUrl = await createQueue(uniqueId("events"));
    const job = testJob();
    const events = await eventsFor(job, "model.uploaded", "model.processed");
    const notifiers = selectNotifiers(loadConfig({ ...env, ...sqsEnv(queueUrl) }).notify, { subscriptions: durableWebhookSubscriptions(env.PROJECTS) });
    const states = events.flatMap((event) => planNotifications(event, ["sqs"], Date.now()));

    const round = await deliverDue(states, events, notifiers, { now: Date.now() });

    expect(round.states.map((s) => [s.eventType, s.status, s.attempts])).toEqual([
      ["model.uploaded", "delivered", 1],
      ["model.processed", "delivered", 1],
    ]);
    expect(round.nextAlarmAt).toBeNull();
    const messages = await receiveAll(queueUrl);
    expect(messages.map((m) => JSON.parse(m.body) as NotificationEvent)).toEqual(events);
    expect(messages[1]?.messageAttributes).toEqual({
      type: { dataType: "String", stringValue: "model.processed" },
      jobId: { dataType: "String", stringValue: job.jobId },
      projectId: { dataType: "String", stringValue: job.projectId },
      requestId: { dataType: "String", stringValue: job.requestId },
    });
  });

  it("gives a FIFO queue the project as group and the event id as deduplication id, so a resend is dropped", async () => {
    const queueUrl = await createQueue(`${uniqueId("events")}.fifo`);
    const job = testJob();
    const [uploaded, processed] = await eventsFor(job, "model.uploaded", "model.processed");
    if (!uploaded || !processed) throw new Error("two events");
    const sqs = sqsNotifier(sqsSettings(queueUrl));

    expect(await sqs.send(uploaded)).toEqual({ kind: "delivered" });
    expect(await sqs.send(processed)).toEqual({ kind: "delivered" });
    // A retry after a lost reply sends the same event again: SQS must drop it.
    expect(await sqs.send(processed)).toEqual({ kind: "delivered" });

    const messages = await receiveAll(queueUrl);
    expect(messages.map((m) => (JSON.parse(m.body) as NotificationEvent).type)).toEqual(["model.uploaded", "model.processed"]);
    expect(messages.map((m) => [m.attributes.MessageGroupId, m.attributes.MessageDeduplicationId])).toEqual([
      [job.projectId, uploaded.id],
      [job.projectId, processed.id],
    ]);
  });

  it("asks for a retry when the queue does not exist", async () => {
    const [event] = await eventsFor(testJob(), "model.uploaded");
    if (!event) throw new Error("one event");
    const outcome = await sqsNotifier(sqsSettings(`${env.FAUXQS_URL}/000000000000/${uniqueId("missing")}`)).send(event);
    expect(outcome).toMatchObject({ kind: "retry", reason: expect.stringMatching(/SQS answered 400 .*QueueDoesNotExist|NonExistentQueue/) });
  });

  it("keeps the queue's name, account and address out of the job's lastError; the peer's message goes to the log", async () => {
    const [event] = await eventsFor(testJob(), "model.uploaded");
    if (!event) throw new Error("one event");
    const queueName = uniqueId("secret-queue");
    const queueUrl = `${env.FAUXQS_URL}/123456789012/${queueName}`;
    const [state] = planNotifications(event, ["sqs"], Date.now());
    if (!state) throw new Error("one state");
    const lines: string[] = [];
    const record = (fields: LogFields) => void lines.push(JSON.stringify(fields));
    const log: Logger = { debug: record, info: record, warn: record, error: record, child: () => log };
    const round = await deliverDue([state], [event], [sqsNotifier(sqsSettings(queueUrl))], { now: Date.now(), random: () => 0, log });
    const after = round.states[0];
    expect(after?.lastError).toMatch(/^SQS answered 400/);
    for (const leak of [queueName, "123456789012", env.FAUXQS_URL, "arn:"]) expect(after?.lastError).not.toContain(leak);
    // The peer's own message stays available to operators.
    expect(lines.join("\n")).toMatch(/"detail":"SQS answered 400 \w+: [^"]+"/);
  });

  it("asks for a retry when SQS cannot be reached", async () => {
    const [event] = await eventsFor(testJob(), "model.uploaded");
    if (!event) throw new Error("one event");
    const settings = { ...sqsSettings(`${env.FAUXQS_URL}/000000000000/q`), endpoint: "http://127.0.0.1:9" };
    expect(await sqsNotifier(settings).send(event)).toMatchObject({ kind: "retry", reason: "SQS could not be reached", detail: expect.stringMatching(/SQS request failed/) });
  });
});
