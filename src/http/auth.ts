import { createMiddleware } from "hono/factory";
import { verify } from "hono/jwt";
import { z } from "zod";
import type { AppEnv } from "./context";
import { ProblemError } from "../lib/problem";

const claimsSchema = z.object({
  sub: z.string().min(1),
  projects: z.array(z.string().min(1)).min(1),
  exp: z.number(),
});

const unauthorized = (detail: string): ProblemError =>
  new ProblemError({
    status: 401,
    slug: "unauthorized",
    title: "Unauthorized",
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="ifc-ingest"' },
  });

/** Bearer JWT (HS256) with `sub`, `projects` and `exp`; the claims become the caller. */
export const requireCaller = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) throw unauthorized("Send Authorization: Bearer <token>.");
  let payload: unknown;
  try {
    payload = await verify(match[1], c.var.config.authJwtSecret, "HS256");
  } catch (error) {
    const expired = error instanceof Error && error.name === "JwtTokenExpired";
    throw unauthorized(expired ? "The token has expired." : "The token is not valid.");
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw unauthorized("The token lacks the sub, projects or exp claim.");
  c.set("caller", { subject: claims.data.sub, projects: claims.data.projects });
  await next();
});
