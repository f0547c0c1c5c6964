import { z } from "zod";
import { defineSettings } from "../lib/settings";

export interface AuthConfig {
  authJwtSecret: string;
  /** When set, tokens must carry this `iss` / list this `aud`. */
  authIssuer: string | undefined;
  authAudience: string | undefined;
}

/** Bearer-token verification. The secret comes from wrangler secrets or .dev.vars only. */
export const authSettings = defineSettings({
  shape: {
    AUTH_JWT_SECRET: z.string({ error: "is required" }).min(32, "must be at least 32 characters"),
    AUTH_ISSUER: z.string().max(1024).optional(),
    AUTH_AUDIENCE: z.string().max(1024).optional(),
  },
  build: (value): AuthConfig => ({ authJwtSecret: value.AUTH_JWT_SECRET, authIssuer: value.AUTH_ISSUER, authAudience: value.AUTH_AUDIENCE }),
});
