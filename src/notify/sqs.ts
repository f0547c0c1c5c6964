import { AwsClient } from "aws4fetch";
import { CircuitOpenError } from "../resilience/errors";
import type { NotificationEvent } from "./events";
import { type NotifierCircuits, PeerAnswer, guardedCall, outcomeOfStatus } from "./guarded-call";
import { type DeliveryOutcome, type Notifier, delivered, describeError, failedPermanently, retry, retryAfterMs, turnedAway } from "./notifier";

export interface SqsSettings {
  queueUrl: string;
  /** Where requests go; by default the queue URL's origin (set it for emulators or VPC endpoints). */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export const SQS_TIMEOUT_MS = 10_000;

/** Errors no retry can fix: the request itself is wrong. Anything else is retried. */
const PERMANENT_ERRORS = new Set([
  "InvalidParameterValue",
  "InvalidMessageContents",
  "InvalidAttributeName",
  "InvalidAttributeValue",
  "MissingParameter",
  "UnsupportedOperation",
  "InvalidAddress",
]);
/** 4xx codes that mean SQS is overloaded, not that our request is wrong: they count against its breaker. */
const THROTTLING_ERRORS = new Set(["ThrottlingException", "RequestThrottled", "Throttling", "KmsThrottled"]);

interface SqsErrorBody {
  __type?: string;
  message?: string;
  Message?: string;
}

/** Builds the SendMessage request (JSON protocol); exposed so its shape can be tested on its own. */
export function sendMessageInput(queueUrl: string, event: NotificationEvent): Record<string, unknown> {
  const attribute = (value: string) => ({ DataType: "String", StringValue: value });
  const input: Record<string, unknown> = {
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(event),
    MessageAttributes: {
      type: attribute(event.type),
      jobId: attribute(event.jobId),
      projectId: attribute(event.projectId),
      requestId: attribute(event.requestId),
    },
  };
  if (new URL(queueUrl).pathname.endsWith(".fifo")) {
    // One group per project keeps a project's events in order; the event id makes retries idempotent.
    input.MessageGroupId = event.projectId;
    input.MessageDeduplicationId = event.id;
  }
  return input;
}

/**
 * Sends events to an SQS queue with SendMessage, signed with SigV4 by aws4fetch. With
 * `circuits`, each send goes through the `sqs` breaker (5xx, throttling, timeouts and
 * network errors are its failures); while it is open nothing is sent (`turnedAway`).
 */
export function sqsNotifier(
  settings: SqsSettings,
  fetcher: typeof fetch = fetch,
  timeoutMs = SQS_TIMEOUT_MS,
  circuits?: NotifierCircuits,
): Notifier {
  // retries: 0 because the durable schedule owns retrying; aws4fetch would otherwise retry inline.
  const aws = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    region: settings.region,
    service: "sqs",
    retries: 0,
  });
  const endpoint = settings.endpoint ?? `${new URL(settings.queueUrl).origin}/`;

  return {
    channel: "sqs",
    async send(event: NotificationEvent): Promise<DeliveryOutcome> {
      const send = async (signal: AbortSignal): Promise<void> => {
        const request = await aws.sign(endpoint, {
          method: "POST",
          headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" },
          body: JSON.stringify(sendMessageInput(settings.queueUrl, event)),
        });
        const response = await fetcher(request, { signal });
        if (response.ok) {
          await response.body?.cancel();
          return;
        }
        const text = await response.text().catch(() => "");
        const code = parseError(text).code;
        const outcome = code !== undefined && THROTTLING_ERRORS.has(code) ? "failure" : outcomeOfStatus(response.status);
        throw new PeerAnswer(response.status, response.headers, text, outcome);
      };
      try {
        await guardedCall(circuits, "sqs", timeoutMs, send);
        return delivered();
      } catch (error) {
        if (error instanceof CircuitOpenError) return turnedAway(error);
        if (!(error instanceof PeerAnswer)) return retry("SQS could not be reached", undefined, `SQS request failed: ${describeError(error)}`);
        const { code, message } = parseError(error.body);
        // SQS messages name the queue, its ARN and the account: the log gets them, the tenant the code.
        const reason = `SQS answered ${error.status}${code ? ` ${code}` : ""}`;
        const detail = `${reason}${message ? `: ${message}` : ""}`;
        if (code !== undefined && PERMANENT_ERRORS.has(code)) return failedPermanently(reason, detail);
        return retry(reason, retryAfterMs(error.headers.get("retry-after"), Date.now()), detail);
      }
    },
  };
}

function parseError(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as SqsErrorBody;
    // "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist"
    const code = body.__type?.split("#").pop();
    const message = body.message ?? body.Message;
    return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
  } catch {
    return text ? { message: text.slice(0, 200) } : {};
  }
}
