import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context";
import { validationHook } from "./validation";

/** A router whose routes are declared with their schemas; they make up /openapi.json. */
export const openApiRouter = (): OpenAPIHono<AppEnv> => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/** Declared on every route that needs a token. */
export const BEARER = [{ bearerAuth: [] }];

export const REQUEST_ID_HEADER = {
  "X-Request-Id": { description: "The request's id, also in problem bodies and logs.", schema: { type: "string" as const } },
};
