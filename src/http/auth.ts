import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { AppEnv } from "./context";
import { ProblemError } from "../lib/problem";
import { DEFAULT_LEEWAY_SECONDS, JwtError, type JwtFailure, verifyHs256 } from "./jwt";

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

const REASONS: Record<JwtFailure, string> = {
  malformed: "The token is not valid.",
  algorithm: "The token is not valid.",
  signature: "The token is not valid.",
  expired: "The token has expired.",
  "not-yet-valid": "The token is not valid yet.",
  "issued-in-future": "The token is not valid yet.",
  issuer: "The token was issued for another service.",
  audience: "The token was issued for another service.",
};

/** The bearer token of a request, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return (header ? /^Bearer\s+(\S+)$/i.exec(header) : null)?.[1];
}

/** Bearer JWT (HS256) with `sub`, `projects` and `exp`; the claims become the caller. */
export const requireCaller = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw unauthorized("Send Authorization: Bearer <token>.");
  const { authJwtSecret, authIssuer, authAudience } = c.var.config;
  let payload: Record<string, unknown>;
  try {
    payload = await verifyHs256(token, authJwtSecret, { leewaySeconds: DEFAULT_LEEWAY_SECONDS, issuer: authIssuer, audience: authAudience });
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    c.var.log.info({ msg: "token refused", component: "auth", reason: error.reason });
    throw unauthorized(REASONS[error.reason]);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw unauthorized("The token lacks the sub, projects or exp claim.");
  c.set("caller", { subject: claims.data.sub, projects: claims.data.projects });
  await next();
});

/**
 * Whether a request comes from an operator (`projects: ["*"]`), judged with a secret taken
 * straight from the environment: used only where the configuration itself is broken, so
 * that its details go to operators and to the log, never to tenants.
 */
export async function isOperatorRequest(authorization: string | undefined, rawSecret: string | undefined): Promise<boolean> {
  const token = bearerToken(authorization);
  if (!token || !rawSecret) return false;
  try {
    const payload = await verifyHs256(token, rawSecret, { leewaySeconds: DEFAULT_LEEWAY_SECONDS });
    const projects = payload.projects;
    return Array.isArray(projects) && projects.includes("*");
  } catch {
    return false;
  }
}
