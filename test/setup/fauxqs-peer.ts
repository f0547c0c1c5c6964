import { createServer, type IncomingMessage, type Server } from "node:http";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";

export const FAUXQS_REGION = "us-east-1";
export const FAUXQS_CREDENTIALS = { accessKeyId: "AKIAFAUXQSTEST", secretAccessKey: "fauxqs-test-secret" };

export interface FauxqsPeer {
  /** The SQS endpoint (JSON protocol), for SQS_ENDPOINT. */
  url: string;
  /** Node-side helper: POST /queues {name} creates a queue; GET /receive?queueUrl= reads it with the AWS SDK. */
  controlUrl: string;
  stop(): Promise<void>;
}

/** What the control endpoint answers for each received message. */
export interface ReceivedMessage {
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { dataType: string; stringValue?: string }>;
}

/**
 * Starts fauxqs on 127.0.0.1 (its startFauxqs helper binds every interface, so the app is
 * built and bound here) and a control endpoint that reads queues with the real AWS SDK:
 * workerd tests cannot run the SDK, and the check must not rely on our own SQS code.
 */
export async function startFauxqsPeer(): Promise<FauxqsPeer> {
  const app = buildApp({ logger: false });
  const url = (await app.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
  const sqs = new SQSClient({ region: FAUXQS_REGION, endpoint: url, credentials: FAUXQS_CREDENTIALS });

  const control = createServer((req, res) => {
    handle(req, sqs)
      .then((body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)))
      .catch((error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(error)));
  });
  await new Promise<void>((ready) => control.listen(0, "127.0.0.1", ready));
  return {
    url,
    controlUrl: `http://127.0.0.1:${port(control)}`,
    stop: async () => {
      sqs.destroy();
      await new Promise<void>((done) => control.close(() => done()));
      await app.close();
    },
  };
}

async function handle(req: IncomingMessage, sqs: SQSClient): Promise<unknown> {
  const url = new URL(req.url ?? "/", "http://control");
  if (req.method === "POST" && url.pathname === "/queues") {
    const { name } = JSON.parse(await readBody(req)) as { name: string };
    const attributes: Record<string, string> = name.endsWith(".fifo") ? { FifoQueue: "true" } : {};
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return { queueUrl: created.QueueUrl };
  }
  if (req.method === "GET" && url.pathname === "/receive") {
    const queueUrl = url.searchParams.get("queueUrl") ?? "";
    const messages: Message[] = [];
    // Messages are deleted once read, as a consumer would: a FIFO queue hands out the next
    // message of a group only after the earlier one is gone.
    for (let round = 0; round < 10; round++) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 60,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      if (!received.Messages?.length) break;
      messages.push(...received.Messages);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: received.Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? "" })),
        }),
      );
    }
    return messages.map(
      (message): ReceivedMessage => ({
        body: message.Body ?? "",
        attributes: { ...message.Attributes },
        messageAttributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            { dataType: value.DataType ?? "", ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }) },
          ]),
        ),
      }),
    );
  }
  throw new Error(`no control route ${req.method} ${url.pathname}`);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function port(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no port");
  return address.port;
}
