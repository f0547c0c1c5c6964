import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../notify/events";
import { Timestamp } from "./common";

export const WebhookSubscriptionRequest = z
  .object({
    url: z.string().min(1).max(2048).openapi({ example: "https://hooks.example.com/ifc" }),
    events: z
      .array(z.enum(EVENT_TYPES))
      .min(1)
      .refine((events) => new Set(events).size === events.length, "must not repeat an event type")
      .default([...EVENT_TYPES])
      .openapi({ description: "Defaults to every event type." }),
  })
  .openapi("WebhookSubscriptionRequest");

export const WebhookSubscriptionSchema = z
  .object({
    projectId: z.string(),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    status: z.enum(["active", "disabled"]),
    disabledReason: z.string().optional(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("WebhookSubscription");

export const CreatedWebhookSubscriptionSchema = WebhookSubscriptionSchema.extend({
  secret: z.string().openapi({ description: "Standard Webhooks signing secret (whsec_...); shown only in this reply." }),
}).openapi("CreatedWebhookSubscription");
