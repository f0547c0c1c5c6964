import { z } from "zod";
import { defineSettings } from "../lib/settings";

export interface AuthConfig {
  authJwtSecret: string;
}

/** Bearer-token verification. The secret comes from wrangler secrets or .dev.vars only. */
export const authSettings = defineSettings({
  shape: {
    AUTH_JWT_SECRET: z.string({ error: "is required" }).min(32, "must be at least 32 characters"),
  },
  build: (value): AuthConfig => ({ authJwtSecret: value.AUTH_JWT_SECRET }),
});
