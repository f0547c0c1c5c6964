import type { ValidationTargets } from "hono";
import { zValidator } from "@hono/zod-validator";
import type { ZodType } from "zod";
import { ProblemError } from "../lib/problem";

/** zod validation whose failures become 400 problems listing each failing field. */
export const validate = <Target extends keyof ValidationTargets, Schema extends ZodType>(target: Target, schema: Schema) =>
  zValidator(target, schema, (result) => {
    if (result.success) return;
    const errors = result.error.issues.map((issue) => ({
      field: issue.path.map(String).join(".") || target,
      message: issue.message,
    }));
    throw new ProblemError({
      status: 400,
      slug: "validation-failed",
      title: "Bad Request",
      detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
      extensions: { errors },
    });
  });
