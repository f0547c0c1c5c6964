import { expect } from "vitest";
import { createApp } from "../../src/app";
import { IngestClient } from "../../src/client";
import { api, call, token } from "./worker";

const definitions = createApp().openAPIRegistry.definitions;

interface Documented {
  parse(value: unknown): unknown;
}

function schemaFor(method: string, path: string, status: number, mediaType: string): Documented | null | undefined {
  for (const definition of definitions) {
    if (definition.type !== "route" || definition.route.method !== method || definition.route.path !== path) continue;
    const response = definition.route.responses[status];
    if (!response || "$ref" in response) return undefined;
    const media = response.content?.[mediaType];
    if (!media) return response.content ? undefined : null;
    const schema = "schema" in media ? (media.schema as unknown) : undefined;
    return schema && typeof schema === "object" && "parse" in schema ? (schema as Documented) : undefined;
  }
  return undefined;
}

/**
 * Checks a real reply against what /openapi.json says the route answers with that status:
 * the status is documented, and the body parses under its schema losing nothing (an
 * undocumented field would be stripped and the comparison fail). Answers the body.
 */
export async function expectDocumented(method: "get" | "post" | "put" | "delete", path: string, response: Response): Promise<unknown> {
  const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  const schema = schemaFor(method, path, response.status, mediaType || "none");
  const text = await response.clone().text();
  if (schema === null) {
    expect(text, `${method.toUpperCase()} ${path} ${response.status} has no body`).toBe("");
    return undefined;
  }
  expect(schema, `${method.toUpperCase()} ${path} documents ${response.status} ${mediaType}: ${text.slice(0, 300)}`).toBeDefined();
  const body: unknown = JSON.parse(text);
  expect(schema?.parse(body)).toEqual(body);
  return body;
}

/** The package's typed client, talking to the Worker under test. */
export async function testClient(projects: string[]): Promise<IngestClient> {
  return new IngestClient({ url: api(""), token: await token(projects), fetch: (request) => call(request) });
}
