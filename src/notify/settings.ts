import { z } from "zod";
import { AWS_SETTINGS, awsShape } from "../lib/aws-settings";
import { booleanSetting, defineSettings, httpUrlSetting } from "../lib/settings";
import { DEFAULT_SCHEDULE_MS, parseSchedule } from "./schedule";
import type { SqsSettings } from "./sqs";

export interface NotifyConfig {
  /** SendMessage target; null when SQS_QUEUE_URL is not set. */
  sqs: SqsSettings | null;
  webhook: {
    /** Lets http, any port, loopback and private addresses through, for local receivers. */
    allowPrivate: boolean;
    /** How webhook host names are resolved before the SSRF check: DNS-over-HTTPS or not at all. */
    dnsResolver: "doh" | "off";
  };
  /** Whether the EVENTS_QUEUE Cloudflare Queue binding is present. */
  queue: boolean;
  /** Attempt offsets in ms from the first attempt. */
  scheduleMs: readonly number[];
}

/** Event channels: SQS, webhooks, the optional Cloudflare Queue, and the delivery schedule. */
export const notifySettings = defineSettings({
  shape: {
    SQS_QUEUE_URL: httpUrlSetting.optional(),
    SQS_ENDPOINT: httpUrlSetting.optional(),
    ...awsShape,
    WEBHOOK_DNS_RESOLVER: z.enum(["doh", "off"]).optional(),
    WEBHOOK_ALLOW_PRIVATE: booleanSetting.optional(),
    NOTIFY_SCHEDULE_MS: z
      .string()
      .transform((text, ctx) => {
        const schedule = parseSchedule(text);
        if (schedule.ok) return schedule.value;
        ctx.addIssue({ code: "custom", message: schedule.error });
        return z.NEVER;
      })
      .optional(),
  },
  missing(raw) {
    if (raw.SQS_QUEUE_URL === undefined) return [];
    return AWS_SETTINGS.filter((name) => raw[name] === undefined).map((name) => `${name}: is required when SQS_QUEUE_URL is set`);
  },
  build(value, context): { notify: NotifyConfig } {
    const { SQS_QUEUE_URL: queueUrl, AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = value;
    const sqs =
      queueUrl === undefined || region === undefined || accessKeyId === undefined || secretAccessKey === undefined
        ? null
        : { queueUrl, region, accessKeyId, secretAccessKey, ...(value.SQS_ENDPOINT === undefined ? {} : { endpoint: value.SQS_ENDPOINT }) };
    return {
      notify: {
        sqs,
        webhook: {
          // Local receivers (wrangler dev, tests) listen on http://127.0.0.1; production never may.
          allowPrivate: (value.WEBHOOK_ALLOW_PRIVATE ?? String(context.environment !== "production")) === "true",
          // Tests must not send DNS queries out of the machine.
          dnsResolver: value.WEBHOOK_DNS_RESOLVER ?? (context.environment === "test" ? "off" : "doh"),
        },
        queue: context.bindings.queue,
        scheduleMs: value.NOTIFY_SCHEDULE_MS ?? DEFAULT_SCHEDULE_MS,
      },
    };
  },
});
