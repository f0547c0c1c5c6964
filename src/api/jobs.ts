import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../notify/events";
import { FAILURE_CODES } from "../processing/processor";
import { Timestamp } from "./common";
import { ModelSummarySchema } from "./summary";

export const JOB_STATUSES = ["queued", "processing", "succeeded", "failed"] as const;

export const FileInfoSchema = z
  .object({
    name: z.string().openapi({ example: "duplex.ifc" }),
    size: z.int().nonnegative().openapi({ example: 2380763 }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .openapi({
        example: "9f2c0d5e8a1b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",
        description:
          "Computed on the way in for direct uploads. For upload sessions the declared SHA-256, or null until the processing pass has hashed the stored model.",
      }),
    schema: z.string().openapi({ example: "IFC2X3" }),
  })
  .openapi("FileInfo");

export const NotificationSchema = z
  .object({
    channel: z.enum(["sqs", "webhook", "queue"]),
    event: z.enum(EVENT_TYPES),
    status: z.enum(["pending", "delivered", "failed", "disabled"]),
    attempts: z.int().nonnegative(),
    lastError: z.string().optional(),
    nextAttemptAt: Timestamp.optional(),
  })
  .openapi("Notification");

const jobFields = {
  jobId: z.guid().openapi({ example: "6f1c2b9e-4d0a-4f7e-9a51-2a8c3e7d9b10" }),
  projectId: z.string().openapi({ example: "demo" }),
  status: z.enum(JOB_STATUSES),
  file: FileInfoSchema,
  attempts: z.int().nonnegative().openapi({ description: "Processing attempts started, the first included." }),
  progress: z
    .object({ phase: z.enum(["reading", "copying", "parsing"]), bytesDone: z.int().nonnegative(), bytesTotal: z.int().nonnegative() })
    .optional()
    .openapi({ description: "While processing: how far the engine has read the model." }),
  error: z.object({ code: z.enum(FAILURE_CODES), message: z.string() }).optional().openapi({ description: "Present once the job failed." }),
  nextAttemptAt: Timestamp.optional().openapi({ description: "When the next attempt is due after a transient failure." }),
  notifications: z.array(NotificationSchema),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const JobSchema = z
  .object({ ...jobFields, summary: ModelSummarySchema.optional().openapi({ description: "Present once the job succeeded." }) })
  .openapi("Job");

export const JobListItemSchema = z.object(jobFields).openapi("JobListItem", { description: "A job as listed: the job without its summary." });

export const JobListSchema = z
  .object({
    items: z.array(JobListItemSchema).openapi({ description: "Newest first." }),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page." }),
  })
  .openapi("JobList");

export const JobListQuery = z.object({
  status: z.enum(JOB_STATUSES).optional().openapi({ param: { name: "status", in: "query" } }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: "limit", in: "query" }, example: 20 }),
  cursor: z.string().min(1).max(200).optional().openapi({ param: { name: "cursor", in: "query" }, description: "`nextCursor` of the previous page." }),
});

export const AcceptedUploadSchema = z
  .object({
    jobId: z.guid(),
    projectId: z.string(),
    status: z.literal("queued"),
    file: FileInfoSchema,
    links: z.object({ self: z.string().openapi({ example: "/v1/jobs/6f1c2b9e-4d0a-4f7e-9a51-2a8c3e7d9b10" }) }),
  })
  .openapi("AcceptedUpload");

export type JobListItem = z.infer<typeof JobListItemSchema>;
export type JobList = z.infer<typeof JobListSchema>;
export type Job = z.infer<typeof JobSchema>;
