import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig, type SettingValues } from "../../src/config";
import { deliverDue } from "../../src/notify/deliver";
import type { NotificationEvent } from "../../src/notify/events";
import type { Notifier } from "../../src/notify/notifier";
import { type NotificationState, planNotifications } from "../../src/notify/schedule";
import { selectNotifiers } from "../../src/notify/select-notifiers";
import { webhookNotifier } from "../../src/notify/webhook";
import { durableWebhookSubscriptions } from "../../src/projects/client";
import { eventsFor, receivedBy, scriptReceiver, sleep, testJob, uniqueId } from "../support/notify";
import { api, bearer, call, getApi } from "../support/worker";

const SCHEDULE = "0,150,300,450";

interface Created {
  secret: string;
  url: string;
  status: string;
  disabledReason?: string;
}

/** Registers the receiver path `name` as the project's webhook through the API. */
async function subscribe(projectId: string, name: string, responses: { status: number; headers?: Record<string, string>; delayMs?: number }[], events?: string[]) {
  const url = await scriptReceiver(name, { responses });
  const response = await call(
    new Request(api(`/v1/projects/${projectId}/webhook`), {
      method: "PUT",
      headers: { ...(await bearer([projectId])), "content-type": "application/json" },
      body: JSON.stringify(events ? { url, events } : { url }),
    }),
  );
  expect(response.status).toBe(200);
  const created = (await response.json()) as Created;
  await scriptReceiver(name, { secret: created.secret });
  return created;
}

async function subscription(projectId: string): Promise<Created> {
  const response = await getApi(`/v1/projects/${projectId}/webhook`, [projectId]);
  return (await response.json()) as Created;
}

function notifiersFor(overrides: SettingValues = {}): { notifiers: Notifier[]; scheduleMs: readonly number[] } {
  const config = loadConfig({ ...env, NOTIFY_SCHEDULE_MS: SCHEDULE, ...overrides });
  return { notifiers: selectNotifiers(config.notify, { subscriptions: durableWebhookSubscriptions(env.PROJECTS) }), scheduleMs: config.notify.scheduleMs };
}

/** What a Durable Object's alarm loop does: deliver what is due, sleep until the next alarm, repeat. */
async function runAlarms(states: NotificationState[], events: NotificationEvent[], overrides: SettingValues = {}, maxRounds = 8) {
  const { notifiers, scheduleMs } = notifiersFor(overrides);
  let current = states;
  let rounds = 0;
  for (; rounds < maxRounds; rounds++) {
    const round = await deliverDue(current, events, notifiers, { now: Date.now(), scheduleMs });
    current = round.states;
    if (round.nextAlarmAt === null) break;
    await sleep(Math.max(0, round.nextAlarmAt - Date.now()));
  }
  return { states: current, rounds: rounds + 1 };
}

describe("webhook notifications against a Standard Webhooks receiver", () => {
  it("delivers on the third attempt to a receiver that fails twice, every attempt validly signed", async () => {
    const job = testJob();
    const name = uniqueId("flaky");
    await subscribe(job.projectId, name, [{ status: 500 }, { status: 503 }, { status: 204 }]);
    const events = await eventsFor(job, "model.processed");
    const started = Date.now();

    const { states } = await runAlarms(planNotifications(events[0] ?? { id: "", type: "model.processed" }, ["webhook"], started), events);

    expect(states).toEqual([expect.objectContaining({ status: "delivered", attempts: 3, nextAttemptAt: null })]);
    const deliveries = await receivedBy(name);
    expect(deliveries.map((d) => d.answered)).toEqual([500, 503, 204]);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    expect(new Set(deliveries.map((d) => d.headers["webhook-id"]))).toEqual(new Set([events[0]?.id]));
    expect(JSON.parse(deliveries[2]?.body ?? "{}")).toEqual(events[0]);
    expect(deliveries[0]?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Full jitter keeps each wait within its gap of the shortened schedule.
    expect((deliveries[2]?.receivedAt ?? 0) - started).toBeLessThan(300 + 1_000);
  });

  it("delivers uploaded before processed, each once", async () => {
    const job = testJob();
    const name = uniqueId("ordered");
    await subscribe(job.projectId, name, [{ status: 200 }]);
    const events = await eventsFor(job, "model.uploaded", "model.processed");
    const states = events.flatMap((event) => planNotifications(event, ["webhook"], Date.now()));

    const result = await runAlarms(states, events);

    expect(result.states.map((s) => s.status)).toEqual(["delivered", "delivered"]);
    const deliveries = await receivedBy(name);
    expect(deliveries.map((d) => (JSON.parse(d.body) as NotificationEvent).type)).toEqual(["model.uploaded", "model.processed"]);
    expect(deliveries.every((d) => d.verified)).toBe(true);
  });

  it("disables the subscription when the receiver answers 410 and sends nothing more", async () => {
    const job = testJob();
    const name = uniqueId("gone");
    await subscribe(job.projectId, name, [{ status: 410 }]);
    const events = await eventsFor(job, "model.uploaded", "model.processed");
    const states = events.flatMap((event) => planNotifications(event, ["webhook"], Date.now()));

    const result = await runAlarms(states, events);

    expect(result.states.map((s) => [s.status, s.attempts])).toEqual([
      ["disabled", 1],
      ["disabled", 1],
    ]);
    expect(result.states[0]?.lastError).toMatch(/410/);
    expect(result.states[1]?.lastError).toMatch(/subscription is disabled/);
    expect(await receivedBy(name)).toHaveLength(1);
    expect(await subscription(job.projectId)).toMatchObject({ status: "disabled", disabledReason: "receiver answered 410 Gone" });
  });

  it("does not follow a redirect and retries instead", async () => {
    const job = testJob();
    const name = uniqueId("redirect");
    const elsewhere = uniqueId("elsewhere");
    const target = await scriptReceiver(elsewhere, { responses: [{ status: 200 }] });
    await subscribe(job.projectId, name, [{ status: 302, headers: { location: target } }]);
    const events = await eventsFor(job, "model.uploaded");
    const { notifiers, scheduleMs } = notifiersFor();

    const round = await deliverDue(planNotifications(events[0] ?? { id: "", type: "model.uploaded" }, ["webhook"], Date.now()), events, notifiers, { now: Date.now(), scheduleMs });

    expect(round.states[0]).toMatchObject({ status: "pending", attempts: 1, lastError: expect.stringMatching(/302; redirects are not followed/) });
    expect(round.nextAlarmAt).not.toBeNull();
    expect(await receivedBy(name)).toHaveLength(1);
    expect(await receivedBy(elsewhere)).toHaveLength(0);
  });

  it("waits at least as long as the receiver's Retry-After", async () => {
    const job = testJob();
    await subscribe(job.projectId, uniqueId("busy"), [{ status: 429, headers: { "retry-after": "120" } }]);
    const events = await eventsFor(job, "model.uploaded");
    const { notifiers, scheduleMs } = notifiersFor();
    const now = Date.now();

    const round = await deliverDue(planNotifications(events[0] ?? { id: "", type: "model.uploaded" }, ["webhook"], now), events, notifiers, { now, scheduleMs });

    expect(round.states[0]?.status).toBe("pending");
    expect(round.nextAlarmAt ?? 0).toBeGreaterThanOrEqual(now + 120_000);
  });

  it("retries a receiver that does not answer within the timeout", async () => {
    const job = testJob();
    const name = uniqueId("slow");
    await subscribe(job.projectId, name, [{ status: 200, delayMs: 1_000 }]);
    const [event] = await eventsFor(job, "model.uploaded");
    if (!event) throw new Error("one event");
    const notifier = webhookNotifier({ subscriptions: durableWebhookSubscriptions(env.PROJECTS), guard: { allowPrivate: true, resolver: null }, timeoutMs: 100 });

    expect(await notifier.send(event)).toEqual({ kind: "retry", reason: "webhook request failed: timed out" });
  });

  it("sends only the events the subscription asked for, and nothing without a subscription", async () => {
    const job = testJob();
    const name = uniqueId("failures-only");
    await subscribe(job.projectId, name, [{ status: 200 }], ["model.failed"]);
    const [processed, failed] = await eventsFor(job, "model.processed", "model.failed");
    if (!processed || !failed) throw new Error("two events");
    const [webhook] = notifiersFor().notifiers;
    if (!webhook) throw new Error("webhook notifier");

    expect(await webhook.send(processed)).toEqual({ kind: "gone", reason: "the webhook subscription does not include model.processed" });
    expect(await webhook.send(failed)).toEqual({ kind: "delivered", detail: "HTTP 200" });
    expect((await receivedBy(name)).map((d) => (JSON.parse(d.body) as NotificationEvent).type)).toEqual(["model.failed"]);
    const [other] = await eventsFor(testJob(), "model.uploaded");
    expect(await webhook.send(other ?? failed)).toMatchObject({ kind: "gone", reason: expect.stringMatching(/no webhook subscription/) });
  });

  it("checks the URL again before delivering: a private receiver is refused once private targets are not allowed", async () => {
    const job = testJob();
    const name = uniqueId("private");
    await subscribe(job.projectId, name, [{ status: 200 }]);
    const events = await eventsFor(job, "model.uploaded");

    const { states } = await runAlarms(planNotifications(events[0] ?? { id: "", type: "model.uploaded" }, ["webhook"], Date.now()), events, { WEBHOOK_ALLOW_PRIVATE: "false" });

    expect(states[0]).toMatchObject({ status: "failed", attempts: 1, lastError: expect.stringMatching(/webhook URL rejected: scheme http/) });
    expect(await receivedBy(name)).toHaveLength(0);
  });
});
