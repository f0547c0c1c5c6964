import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import type { AppEnv } from "../http/context";

/** Served from the Worker's static assets (copied there by scripts/docs-assets.mjs), not a CDN. */
export const API_REFERENCE_SCRIPT = "/vendor/scalar-api-reference.js";

const INFO = {
  title: "IFC edge ingest",
  version: "1",
  description: [
    "Uploads IFC building models, stores them, summarises them and notifies other systems.",
    "",
    "Every route but `/healthz`, `/openapi.json` and `/docs` needs `Authorization: Bearer <JWT>` (HS256) whose `projects` claim lists the projects the caller may touch (`*`: all, and the operations routes).",
    "",
    "Errors are RFC 9457 `application/problem+json`; each response lists the problem types it may carry (`type` = https://docs.ifc-ingest.example/problems/{slug}).",
  ].join("\n"),
};

/** GET /openapi.json (OpenAPI 3.1, from the routes' own schemas) and GET /docs (the reference page). */
export function docs(app: OpenAPIHono<AppEnv>): Hono<AppEnv> {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "`npm run token -- <projectId>` makes one for `npm run dev`.",
  });
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  return new Hono<AppEnv>()
    .get("/openapi.json", (c) => {
      // Built on first use: the routes do not change while the isolate lives.
      document ??= app.getOpenAPI31Document({ openapi: "3.1.0", info: INFO, tags: TAGS });
      return c.json(document);
    })
    .get(
      "/docs",
      Scalar({
        url: "/openapi.json",
        cdn: API_REFERENCE_SCRIPT,
        pageTitle: "IFC edge ingest API",
        authentication: { preferredSecurityScheme: "bearerAuth" },
        // Nothing on the page calls out to Scalar's services: no fonts, telemetry, agent or MCP.
        withDefaultFonts: false,
        telemetry: false,
        agent: { disabled: true },
        mcp: { disabled: true },
        showDeveloperTools: "never",
        hideClientButton: true,
      }),
    );
}

const TAGS = [
  { name: "Uploads", description: "Uploading models: in one request, or in parts through upload sessions." },
  { name: "Jobs", description: "What became of an upload: status, summary, listing." },
  { name: "Webhooks", description: "Signed notifications to a project's endpoint." },
  { name: "Health", description: "Liveness and readiness." },
  { name: "Operations", description: "Operator views (token with projects `*`)." },
];
