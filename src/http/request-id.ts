import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";

const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's x-request-id when it is sane, so traces join up; otherwise makes one. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const offered = c.req.header("x-request-id");
  const id = offered && ACCEPTABLE_ID.test(offered) ? offered : crypto.randomUUID();
  c.set("requestId", id);
  c.header("x-request-id", id);
  await next();
  c.header("x-request-id", id);
});
