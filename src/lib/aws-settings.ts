import { z } from "zod";

/** AWS credentials and region, shared by every AWS adapter (S3, SQS); declared once here. */
export const awsShape = {
  AWS_REGION: z.string().regex(/^[a-z0-9-]{2,32}$/, "must be a region name such as eu-central-1").optional(),
  /** Secret: wrangler secret / .dev.vars only. */
  AWS_ACCESS_KEY_ID: z.string().optional(),
  /** Secret: wrangler secret / .dev.vars only. */
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
};

export const AWS_SETTINGS = ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const;
