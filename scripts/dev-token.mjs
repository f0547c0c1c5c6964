// A development JWT (HS256) signed with AUTH_JWT_SECRET from .dev.vars; shared by
// `npm run token` and the console link `npm run dev` prints. Call after toolchainEnv(), which
// installs hono on a fresh clone.
import { ensureDevVars, readDevVars } from "./dev-vars.mjs";

export async function signDevToken(projects, ttlSeconds) {
  ensureDevVars();
  const secret = readDevVars().AUTH_JWT_SECRET;
  if (!secret) throw new Error(".dev.vars has no AUTH_JWT_SECRET");
  const { sign } = await import("hono/jwt");
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: "local-developer", projects, iat: now, exp: now + ttlSeconds }, secret, "HS256");
}
