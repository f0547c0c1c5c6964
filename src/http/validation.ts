import type { Hook } from "@hono/zod-openapi";
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodError, ZodType } from "zod";
import type { AppEnv } from "./context";
import { ProblemError } from "../lib/problem";

/** A 400 problem listing each failing field of one request part. */
export function validationProblem(error: Pick<ZodError, "issues">, target: string): ProblemError {
  const errors = error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || target,
    message: issue.message,
  }));
  return new ProblemError({
    status: 400,
    slug: "validation-failed",
    title: "Bad Request",
    detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
    extensions: { errors },
  });
}

/** The routes' defaultHook: validation failures become problems, rendered by onError. */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (!result.success) throw validationProblem(result.error, result.target);
};

/** zod validation for routes declared without OpenAPI (the same 400 problem). */
export const validate = <Target extends keyof ValidationTargets, Schema extends ZodType>(target: Target, schema: Schema) =>
  zValidator(target, schema, (result) => {
    if (!result.success) throw validationProblem(result.error, target);
  });
