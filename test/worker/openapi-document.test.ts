/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { PROBLEM_TYPES } from "../../src/api/problems";
import { api, call } from "../support/worker";

interface Operation {
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { examples?: Record<string, unknown> }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

async function document(): Promise<Document> {
  const response = await call(new Request(api("/openapi.json")));
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

const SOURCE_FILES = import.meta.glob("../../src/**/*.ts", { query: "?raw", import: "default", eager: true });

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document served without a token", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("describes every route of the API", async () => {
    const doc = await document();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        "GET /healthz",
        "GET /readyz",
        "POST /v1/projects/{projectId}/models",
        "GET /v1/projects/{projectId}/jobs",
        "PUT /v1/projects/{projectId}/webhook",
        "GET /v1/projects/{projectId}/webhook",
        "DELETE /v1/projects/{projectId}/webhook",
        "GET /v1/jobs/{jobId}",
        "DELETE /v1/jobs/{jobId}",
        "GET /v1/jobs/{jobId}/summary",
        "GET /v1/ops/circuits",
      ]),
    );
  });

  it("asks for the bearer token on every route but liveness", async () => {
    const doc = await document();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (path === "/healthz") expect(operation.security, `${method} ${path}`).toBeUndefined();
        else expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
      }
    }
  });

  it("documents, with an example, every problem type the code can answer with", async () => {
    const doc = await document();
    const documented = new Set<string>();
    for (const methods of Object.values(doc.paths)) {
      for (const operation of Object.values(methods)) {
        for (const response of Object.values(operation.responses)) {
          for (const slug of Object.keys(response.content?.["application/problem+json"]?.examples ?? {})) documented.add(slug);
        }
      }
    }
    const used = new Set<string>();
    for (const text of Object.values(SOURCE_FILES) as string[]) {
      for (const match of text.matchAll(/slug: "([a-z-]+)"/g)) if (match[1]) used.add(match[1]);
    }
    expect(used.size).toBeGreaterThan(10);
    for (const slug of used) expect(Object.keys(PROBLEM_TYPES), `${slug} is in the catalogue`).toContain(slug);
    // not-found for unknown routes and http-error for malformed JSON may come from anywhere;
    // every other type is named by the routes that answer with it.
    for (const slug of Object.keys(PROBLEM_TYPES)) expect(documented, `${slug} is documented on a route`).toContain(slug);
  });
});

describe("GET /docs", () => {
  it("serves the reference page, loading its script from this service rather than a CDN", async () => {
    const response = await call(new Request(api("/docs")));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<script src="/vendor/scalar-api-reference.js"');
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/https?:\/\/cdn\./);
  });
});
