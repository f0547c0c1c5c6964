import type { SettingValues } from "../../src/config";
import { env, exports } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { TEST_JWT_SECRET } from "./constants";

export interface ExpectedModel {
  file: string;
  schema: string;
  entities: number;
  materials: [string, number][];
  storeys: string[];
  counts: Record<string, number>;
}

/** The real models of test/fixtures/ifc that its expected.jsonl describes. */
export const REFERENCE_MODELS = [
  "AC20-FZK-Haus.ifc",
  "ISSUE_044_test_IFCCOMPOSITEPROFILEDEF.ifc",
  "IfcOpenHouse_IFC4.ifc",
  "duplex.ifc",
  "example.ifc",
  "test.ifc",
];

export const uniqueProject = (): string => `p-${crypto.randomUUID().slice(0, 8)}`;

/** A token with exactly these claims (signed with the test secret unless told), e.g. one lacking a claim. */
export async function signedToken(claims: Record<string, unknown>, secret = TEST_JWT_SECRET): Promise<string> {
  return sign(claims, secret, "HS256");
}

export async function token(projects: string[], options: { expiresIn?: number; secret?: string; sub?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { sub: options.sub ?? "test", projects, iat: now, exp: now + (options.expiresIn ?? 600) },
    options.secret ?? TEST_JWT_SECRET,
    "HS256",
  );
}

export async function fixture(path: string): Promise<Uint8Array> {
  const response = await fetch(`${env.FIXTURES_URL}/${path}`);
  if (!response.ok) throw new Error(`fixture ${path}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function expectedModels(): Promise<ExpectedModel[]> {
  const text = new TextDecoder().decode(await fixture("expected.jsonl"));
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as ExpectedModel);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Calls the Worker under test, optionally with settings overridden for this call only. */
export async function call(request: Request, overrides: SettingValues & { MODELS?: R2Bucket | undefined } = {}): Promise<Response> {
  if (Object.keys(overrides).length === 0) return exports.default.fetch(request);
  const { default: worker } = await import("../../src/index");
  return worker.fetch(request, { ...env, ...overrides }, { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext);
}

export const api = (path: string): string => `http://ingest.test${path}`;

/** An Authorization header with a fresh token for `projects`. */
export async function bearer(projects: string[], options?: Parameters<typeof token>[1]): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await token(projects, options)}` };
}

/** GET `path` of the API as a caller allowed `projects` (every project unless told). */
export async function getApi(path: string, projects: string[] = ["*"], overrides: Parameters<typeof call>[1] = {}): Promise<Response> {
  return call(new Request(api(path), { headers: await bearer(projects) }), overrides);
}

export async function upload(
  projectId: string,
  body: BodyInit | null,
  init: { token?: string; filename?: string; headers?: Record<string, string>; overrides?: SettingValues } = {},
): Promise<Response> {
  const query = init.filename === undefined ? "" : `?filename=${encodeURIComponent(init.filename)}`;
  const headers = new Headers(init.headers);
  // As curl and browsers do: a body of known size goes with its Content-Length.
  if (body instanceof Uint8Array && !headers.has("content-length")) headers.set("content-length", String(body.byteLength));
  headers.set("authorization", `Bearer ${init.token ?? (await token([projectId]))}`);
  return call(new Request(api(`/v1/projects/${projectId}/models${query}`), { method: "POST", body, headers }), init.overrides);
}
