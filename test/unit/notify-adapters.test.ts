import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import type { NotificationEvent } from "../../src/notify/events";
import type { NotifierCircuits } from "../../src/notify/guarded-call";
import type { CallOutcome } from "../../src/resilience/breaker";
import { CircuitOpenError } from "../../src/resilience/errors";
import type { GuardOptions, GuardTools } from "../../src/circuits/client";
import { describeError, retryAfterMs } from "../../src/notify/notifier";
import { queueNotifier } from "../../src/notify/queue";
import { channelsOf, selectNotifiers, webhookGuard } from "../../src/notify/select-notifiers";
import { durableWebhookSubscriptions } from "../../src/projects/client";
import { sendMessageInput, sqsNotifier } from "../../src/notify/sqs";
import { type WebhookSubscriptions, type WebhookTarget, webhookNotifier } from "../../src/notify/webhook";
import { eventsFor, testJob } from "../support/notify";

const settings = { queueUrl: "https://sqs.eu-central-1.amazonaws.com/123456789012/events", region: "eu-central-1", accessKeyId: "AKID", secretAccessKey: "secret" };

/** A stand-in for the circuit client: records each guarded call's key and classified outcome, or turns calls away. */
function recordingCircuits(openWith?: CircuitOpenError): NotifierCircuits & { seen: [string, CallOutcome][] } {
  const seen: [string, CallOutcome][] = [];
  const tools: GuardTools = { spendRetry: async () => false };
  return {
    seen,
    guard: async <T,>(key: string, fn: (signal: AbortSignal, tools: GuardTools) => Promise<T>, options: Omit<GuardOptions, "client">): Promise<T> => {
      if (openWith) throw openWith;
      try {
        const result = await fn(AbortSignal.timeout(options.timeoutMs ?? 60_000), tools);
        seen.push([key, "success"]);
        return result;
      } catch (error) {
        seen.push([key, options.classify ? options.classify(error) : "failure"]);
        throw error;
      }
    },
  };
}

async function oneEvent(): Promise<NotificationEvent> {
  const [event] = await eventsFor(testJob(), "model.uploaded");
  if (!event) throw new Error("one event");
  return event;
}

describe("SQS adapter", () => {
  it("signs a JSON-protocol SendMessage to the queue's origin", async () => {
    const seen: Request[] = [];
    const fetcher: typeof fetch = async (input, init) => {
      seen.push(new Request(input, init));
      return Response.json({ MessageId: "m-1" });
    };
    expect(await sqsNotifier(settings, fetcher).send(await oneEvent())).toEqual({ kind: "delivered" });
    const request = seen[0];
    expect(request?.url).toBe("https://sqs.eu-central-1.amazonaws.com/");
    expect(request?.headers.get("x-amz-target")).toBe("AmazonSQS.SendMessage");
    expect(request?.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(request?.headers.get("authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-central-1\/sqs\/aws4_request/);
  });

  it("sets FIFO fields only for .fifo queues", async () => {
    const event = await oneEvent();
    expect(sendMessageInput(settings.queueUrl, event)).not.toHaveProperty("MessageGroupId");
    expect(sendMessageInput(`${settings.queueUrl}.fifo`, event)).toMatchObject({ MessageGroupId: event.projectId, MessageDeduplicationId: event.id });
  });

  it.each([
    [400, { __type: "com.amazonaws.sqs#InvalidParameterValue", message: "bad" }, {}, { kind: "failed-permanently", reason: "SQS answered 400 InvalidParameterValue", detail: "SQS answered 400 InvalidParameterValue: bad" }],
    [400, { __type: "com.amazonaws.sqs#RequestThrottled", Message: "slow down" }, { "retry-after": "3" }, { kind: "retry", reason: "SQS answered 400 RequestThrottled", retryAfterMs: 3_000, detail: "SQS answered 400 RequestThrottled: slow down" }],
    [403, { __type: "InvalidClientTokenId" }, {}, { kind: "retry", reason: "SQS answered 403 InvalidClientTokenId", detail: "SQS answered 403 InvalidClientTokenId" }],
    [500, "Internal failure", {}, { kind: "retry", reason: "SQS answered 500", detail: "SQS answered 500: Internal failure" }],
    [503, "", {}, { kind: "retry", reason: "SQS answered 503", detail: "SQS answered 503" }],
  ])("maps HTTP %i %j to its outcome", async (status, body, headers, outcome) => {
    const fetcher: typeof fetch = async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers });
    expect(await sqsNotifier(settings, fetcher).send(await oneEvent())).toEqual(outcome);
  });
});

describe("SQS adapter behind its breaker", () => {
  it.each([
    [200, { MessageId: "m-1" }, "success"],
    [503, "", "failure"],
    [400, { __type: "com.amazonaws.sqs#RequestThrottled" }, "failure"],
    [403, { __type: "InvalidClientTokenId" }, "client-error"],
    [400, { __type: "com.amazonaws.sqs#InvalidParameterValue" }, "client-error"],
  ])("counts HTTP %i %j as %s of the sqs breaker", async (status, body, outcome) => {
    const circuits = recordingCircuits();
    const fetcher: typeof fetch = async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
    await sqsNotifier(settings, fetcher, 1_000, circuits).send(await oneEvent());
    expect(circuits.seen).toEqual([["sqs", outcome]]);
  });

  it("counts a network error as a failure and still asks for a retry", async () => {
    const circuits = recordingCircuits();
    const fetcher: typeof fetch = async () => Promise.reject(new TypeError("connection refused"));
    expect(await sqsNotifier(settings, fetcher, 1_000, circuits).send(await oneEvent())).toEqual({ kind: "retry", reason: "SQS could not be reached", detail: "SQS request failed: connection refused" });
    expect(circuits.seen).toEqual([["sqs", "failure"]]);
  });

  it("sends nothing while the breaker is open and asks to wait for it, not counting an attempt", async () => {
    let sent = 0;
    const fetcher: typeof fetch = async () => {
      sent++;
      return Response.json({});
    };
    const outcome = await sqsNotifier(settings, fetcher, 1_000, recordingCircuits(new CircuitOpenError("sqs", 12_000))).send(await oneEvent());
    expect(outcome).toEqual({ kind: "retry", reason: "not sent: the sqs circuit breaker is open after repeated failures", retryAfterMs: 12_000, notAttempted: true });
    expect(sent).toBe(0);
  });
});

describe("queue adapter", () => {
  it("sends the event as JSON and retries when the queue throws", async () => {
    const sent: unknown[] = [];
    const queue = {
      send: async (body: NotificationEvent, options?: QueueSendOptions) => void sent.push([body.type, options?.contentType]),
      sendBatch: async () => undefined,
    } as unknown as Queue<NotificationEvent>;
    expect(await queueNotifier(queue).send(await oneEvent())).toEqual({ kind: "delivered" });
    expect(sent).toEqual([["model.uploaded", "json"]]);
    const broken = { send: async () => Promise.reject(new Error("queue full")) } as unknown as Queue<NotificationEvent>;
    expect(await queueNotifier(broken).send(await oneEvent())).toEqual({ kind: "retry", reason: "queue send failed", detail: "queue send failed: queue full" });
  });
});

describe("webhook adapter edge cases", () => {
  const target: WebhookTarget = { subscriptionId: "s-1", url: "https://hooks.example.com/", events: ["model.uploaded"], secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", status: "active" };
  const store = (overrides: Partial<WebhookSubscriptions>): WebhookSubscriptions => ({ target: async () => target, disable: async () => undefined, ...overrides });
  const guard = { allowPrivate: false, resolver: null };

  it("retries when the subscription cannot be read", async () => {
    const notifier = webhookNotifier({ subscriptions: store({ target: () => Promise.reject(new Error("DO overloaded")) }), guard });
    expect(await notifier.send(await oneEvent())).toEqual({ kind: "retry", reason: "subscription lookup failed", detail: "subscription lookup failed: DO overloaded" });
  });

  it("retries when the receiver's name cannot be resolved right now", async () => {
    const notifier = webhookNotifier({ subscriptions: store({}), guard: { allowPrivate: false, resolver: () => Promise.reject(new Error("SERVFAIL")) } });
    expect(await notifier.send(await oneEvent())).toMatchObject({ kind: "retry", reason: expect.stringMatching(/could not be resolved/) });
  });

  it("still reports gone on 410 when disabling the subscription fails", async () => {
    const notifier = webhookNotifier({
      subscriptions: store({ disable: () => Promise.reject(new Error("write failed")) }),
      guard,
      fetch: async () => new Response(null, { status: 410 }),
    });
    expect(await notifier.send(await oneEvent())).toMatchObject({ kind: "gone" });
  });

  it("signs with the time of sending", async () => {
    const seen: Headers[] = [];
    const notifier = webhookNotifier({
      subscriptions: store({}),
      guard,
      now: () => 1_767_225_600_000,
      fetch: async (_input, init) => {
        seen.push(new Headers(init?.headers));
        return new Response("ok");
      },
    });
    expect(await notifier.send(await oneEvent())).toEqual({ kind: "delivered", detail: "HTTP 200" });
    expect(seen[0]?.get("webhook-timestamp")).toBe("1767225600");
  });
});

describe("webhook adapter behind the receiver host's breaker", () => {
  const target: WebhookTarget = { subscriptionId: "s-1", url: "https://Hooks.Example.com/ifc", events: ["model.uploaded"], secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", status: "active" };
  const subscriptions: WebhookSubscriptions = { target: async () => target, disable: async () => undefined };
  const guard = { allowPrivate: false, resolver: null };

  it.each([
    [204, "success", "delivered"],
    [503, "failure", "retry"],
    [429, "failure", "retry"],
    [404, "client-error", "retry"],
    [302, "client-error", "retry"],
    [410, "client-error", "gone"],
  ])("counts HTTP %i as %s of webhook:<project>:<host> and answers %s", async (status, outcome, kind) => {
    const circuits = recordingCircuits();
    const notifier = webhookNotifier({ subscriptions, guard, circuits, fetch: async () => new Response(null, { status }) });
    const event = await oneEvent();
    expect(await notifier.send(event)).toMatchObject({ kind });
    expect(circuits.seen).toEqual([[`webhook:${event.projectId}:hooks.example.com`, outcome]]);
  });

  it("keeps a receiver's Retry-After on a failure counted by the breaker", async () => {
    const circuits = recordingCircuits();
    const notifier = webhookNotifier({ subscriptions, guard, circuits, now: () => 0, fetch: async () => new Response(null, { status: 503, headers: { "retry-after": "9" } }) });
    expect(await notifier.send(await oneEvent())).toEqual({ kind: "retry", reason: "receiver answered 503", retryAfterMs: 9_000 });
  });

  it("sends nothing while the host's breaker is open and waits for it without counting an attempt", async () => {
    let sent = 0;
    const notifier = webhookNotifier({
      subscriptions,
      guard,
      circuits: recordingCircuits(new CircuitOpenError("webhook:p1:hooks.example.com", 7_000)),
      fetch: async () => {
        sent++;
        return new Response(null, { status: 204 });
      },
    });
    expect(await notifier.send(await oneEvent())).toMatchObject({ kind: "retry", retryAfterMs: 7_000, notAttempted: true });
    expect(sent).toBe(0);
  });
});

describe("notifier helpers", () => {
  it("reads Retry-After as seconds or a date", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs("7", now)).toBe(7_000);
    expect(retryAfterMs(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(describeError("text")).toBe("text");
    expect(describeError(new DOMException("x", "TimeoutError"))).toBe("timed out");
  });
});

describe("notification settings", () => {
  const base = { ...env, ENVIRONMENT: "test" };

  it("defaults: webhooks only, private receivers allowed and no DNS in tests; strict with DoH in production", () => {
    const test = loadConfig(base).notify;
    expect(test).toMatchObject({ sqs: null, queue: false, webhook: { allowPrivate: true, dnsResolver: "off" } });
    expect(loadConfig({ ...base, NOTIFY_SCHEDULE_MS: undefined }).notify.scheduleMs).toHaveLength(10);
    const production = loadConfig({ ...base, ENVIRONMENT: "production", STORAGE_DRIVER: "memory" }).notify;
    expect(production.webhook).toEqual({ allowPrivate: false, dnsResolver: "doh" });
    expect(loadConfig({ ...base, ENVIRONMENT: "development", STORAGE_DRIVER: "memory" }).notify.webhook).toEqual({ allowPrivate: true, dnsResolver: "doh" });
  });

  it("reads SQS, the schedule and the queue binding", () => {
    const queue = { send: async () => undefined } as unknown as Queue<NotificationEvent>;
    const config = loadConfig({
      ...base,
      SQS_QUEUE_URL: settings.queueUrl,
      AWS_REGION: "eu-central-1",
      AWS_ACCESS_KEY_ID: "AKID",
      AWS_SECRET_ACCESS_KEY: "secret",
      NOTIFY_SCHEDULE_MS: "0,100,200",
      WEBHOOK_ALLOW_PRIVATE: "false",
      WEBHOOK_DNS_RESOLVER: "doh",
      EVENTS_QUEUE: queue,
    }).notify;
    expect(config.sqs).toEqual({ queueUrl: settings.queueUrl, region: "eu-central-1", accessKeyId: "AKID", secretAccessKey: "secret" });
    expect(config.scheduleMs).toEqual([0, 100, 200]);
    const notifiers = selectNotifiers(config, { queue, subscriptions: durableWebhookSubscriptions(env.PROJECTS) });
    expect(channelsOf(notifiers)).toEqual(["sqs", "webhook", "queue"]);
    expect(webhookGuard(config).resolver).toBeTypeOf("function");
    expect(webhookGuard(config, { resolver: null }).resolver).toBeNull();
  });

  it("names every problem in one message", () => {
    const error = (() => {
      try {
        loadConfig({ ...base, SQS_QUEUE_URL: "ftp://queue", SQS_ENDPOINT: "nope", AWS_REGION: "EU Central", NOTIFY_SCHEDULE_MS: "5,1", WEBHOOK_ALLOW_PRIVATE: "yes", WEBHOOK_DNS_RESOLVER: "udp" });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = String((error as ConfigError).message);
    for (const name of ["SQS_QUEUE_URL", "SQS_ENDPOINT", "AWS_REGION", "NOTIFY_SCHEDULE_MS", "WEBHOOK_ALLOW_PRIVATE", "WEBHOOK_DNS_RESOLVER"]) expect(message).toContain(name);
  });

  it("requires AWS credentials with an SQS queue", () => {
    expect(() => loadConfig({ ...base, SQS_QUEUE_URL: settings.queueUrl })).toThrow(/AWS_REGION: is required.*AWS_ACCESS_KEY_ID: is required.*AWS_SECRET_ACCESS_KEY: is required/);
  });
});
