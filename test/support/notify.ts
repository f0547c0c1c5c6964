import type { SettingValues } from "../../src/config";
import { env } from "cloudflare:workers";
import { type EventType, type NotificationEvent, buildEvent } from "../../src/notify/events";
import type { SqsSettings } from "../../src/notify/sqs";
import { api, call, token } from "./worker";
import type { ReceivedDelivery } from "./webhook-info";

export interface ReceivedMessage {
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { dataType: string; stringValue?: string }>;
}

export const uniqueId = (prefix: string): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

export function testJob(projectId = uniqueId("p")) {
  return {
    jobId: crypto.randomUUID(),
    projectId,
    file: { name: "duplex.ifc", size: 2_380_000, sha256: "ab".repeat(32), schema: "IFC2X3" },
    requestId: uniqueId("req"),
  };
}

export async function eventsFor(job: ReturnType<typeof testJob>, ...types: EventType[]): Promise<NotificationEvent[]> {
  return Promise.all(
    types.map((type, index) =>
      buildEvent(type, job, {
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, index)),
        summary: type === "model.processed" ? { materials: [{}, {}], storeys: [{}], counts: { IFCWALL: 3, IFCDOOR: 1 } } : null,
        error: type === "model.failed" ? { code: "parse-error", message: "bad STEP" } : null,
      }),
    ),
  );
}

/** Creates a queue in fauxqs through the Node-side control endpoint (the AWS SDK). */
export async function createQueue(name: string): Promise<string> {
  const response = await fetch(`${env.FAUXQS_CONTROL_URL}/queues`, { method: "POST", body: JSON.stringify({ name }) });
  if (!response.ok) throw new Error(`create queue ${name}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { queueUrl: string }).queueUrl;
}

/** Reads a queue with the AWS SDK's ReceiveMessage, in Node. */
export async function receiveAll(queueUrl: string): Promise<ReceivedMessage[]> {
  const response = await fetch(`${env.FAUXQS_CONTROL_URL}/receive?queueUrl=${encodeURIComponent(queueUrl)}`);
  if (!response.ok) throw new Error(`receive: ${response.status} ${await response.text()}`);
  return (await response.json()) as ReceivedMessage[];
}

export function sqsSettings(queueUrl: string): SqsSettings {
  return {
    queueUrl,
    endpoint: env.FAUXQS_URL,
    region: env.FAUXQS_REGION,
    accessKeyId: env.FAUXQS_ACCESS_KEY_ID,
    secretAccessKey: env.FAUXQS_SECRET_ACCESS_KEY,
  };
}

/** The settings a deployment would set to reach the emulator, as strings. */
export function sqsEnv(queueUrl: string): SettingValues {
  return {
    SQS_QUEUE_URL: queueUrl,
    SQS_ENDPOINT: env.FAUXQS_URL,
    AWS_REGION: env.FAUXQS_REGION,
    AWS_ACCESS_KEY_ID: env.FAUXQS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.FAUXQS_SECRET_ACCESS_KEY,
  };
}

/** Scripts a receiver path: the secret to verify with and the answers to give, in order. */
export async function scriptReceiver(name: string, script: { secret?: string; responses?: { status: number; headers?: Record<string, string>; delayMs?: number }[] }): Promise<string> {
  const response = await fetch(`${env.WEBHOOK_RECEIVER_URL}/_control/hooks/${name}`, { method: "PUT", body: JSON.stringify(script) });
  if (!response.ok) throw new Error(`script receiver: ${response.status}`);
  return `${env.WEBHOOK_RECEIVER_URL}/hooks/${name}`;
}

export async function receivedBy(name: string): Promise<ReceivedDelivery[]> {
  const response = await fetch(`${env.WEBHOOK_RECEIVER_URL}/_control/hooks/${name}`);
  return ((await response.json()) as { deliveries: ReceivedDelivery[] }).deliveries;
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Subscribes a project's webhook to `url` through the API and answers the signing secret. */
export async function subscribeWebhook(projectId: string, url: string): Promise<string> {
  const response = await call(
    new Request(api(`/v1/projects/${projectId}/webhook`), {
      method: "PUT",
      headers: { authorization: `Bearer ${await token([projectId])}`, "content-type": "application/json" },
      body: JSON.stringify({ url }),
    }),
  );
  if (response.status !== 200) throw new Error(`subscribe webhook: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { secret: string }).secret;
}
