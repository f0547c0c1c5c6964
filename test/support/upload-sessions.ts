import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { UploadSessionObject } from "../../src/uploads/session-object";
import type { CreatedSessionView, SessionView } from "../../src/uploads/session-record";
import { api, call, token } from "./worker";

export const MiB = 1024 * 1024;
/** Sessions of tests take files larger than the test environment's 8 MiB direct-upload limit. */
export const LARGE = { MAX_UPLOAD_BYTES: String(64 * MiB) } as const;

/**
 * A valid STEP file of exactly `size` bytes with `entities` data lines: what the mock processor
 * counts. The rest is a comment, so the size is exact.
 */
export function stepModel(size: number, schema = "IFC4", entities = 100): Uint8Array {
  const head =
    "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\n" +
    `FILE_NAME('session.ifc','2026-11-30T00:00:00',('test'),('test'),'','','');\nFILE_SCHEMA(('${schema}'));\nENDSEC;\nDATA;\n`;
  let lines = "";
  for (let id = 1; id <= entities; id++) lines += `#${id}=IFCWALL('${id.toString().padStart(22, "0")}',$,$,'wall',$,$,$,$);\n`;
  const tail = "ENDSEC;\nEND-ISO-10303-21;\n";
  const fixed = head.length + lines.length + tail.length + "/**/\n".length;
  if (size < fixed) throw new Error(`a model of ${size} bytes cannot hold ${entities} entities`);
  const bytes = new Uint8Array(size);
  const encoder = new TextEncoder();
  let at = 0;
  const put = (text: string) => {
    bytes.set(encoder.encode(text), at);
    at += text.length;
  };
  put(head);
  put(lines);
  put("/*");
  bytes.fill(0x2e, at, size - tail.length - 3);
  at = size - tail.length - 3;
  put("*/\n");
  put(tail);
  return bytes;
}

export interface Caller {
  projectId: string;
  auth: string;
  overrides: Partial<Env>;
}

export async function caller(projectId: string, overrides: Partial<Env> = {}, projects = [projectId]): Promise<Caller> {
  return { projectId, auth: `Bearer ${await token(projects)}`, overrides: { ...LARGE, ...overrides } };
}

export async function send(who: Caller, method: string, path: string, init: { json?: unknown; body?: Uint8Array; headers?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", who.auth);
  let body: BodyInit | undefined;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  } else if (init.body !== undefined) {
    if (!headers.has("content-length")) headers.set("content-length", String(init.body.byteLength));
    body = init.body;
  }
  const url = path.startsWith("http") ? path : api(path);
  return call(new Request(url, { method, headers, body }), who.overrides);
}

export const sessionsPath = (projectId: string): string => `/v1/projects/${projectId}/uploads`;

export async function createSession(who: Caller, file: { filename: string; size: number; sha256?: string }, headers: Record<string, string> = {}) {
  const response = await send(who, "POST", sessionsPath(who.projectId), { json: file, headers });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as CreatedSessionView;
}

/** Sends part `n` of `bytes` where the part URL tells it to go. */
export async function putPart(who: Caller, session: CreatedSessionView, bytes: Uint8Array, partNumber: number): Promise<Response> {
  const located = await send(who, "GET", `${session.links.self}/parts/${partNumber}`);
  expect(located.status, await located.clone().text()).toBe(200);
  const target = (await located.json()) as { url: string; method: string; headers: Record<string, string> };
  const start = (partNumber - 1) * session.partSize;
  const body = bytes.subarray(start, Math.min(bytes.byteLength, start + session.partSize));
  const headers = new Headers(target.headers);
  headers.set("content-length", String(body.byteLength));
  return call(new Request(target.url, { method: target.method, headers, body }), who.overrides);
}

export async function getSession(who: Caller, session: { links: { self: string } }): Promise<SessionView> {
  const response = await send(who, "GET", session.links.self);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as SessionView;
}

export const sessionObject = (uploadId: string) => env.UPLOADS.get(env.UPLOADS.idFromName(uploadId));

/** Moves the session's expiry into the past and runs its alarm, as the runtime would at expiry. */
export async function expire(uploadId: string): Promise<boolean> {
  const stub = sessionObject(uploadId);
  await runInDurableObject(stub, (_object: UploadSessionObject, state) => {
    state.storage.sql.exec("UPDATE session SET expires_at = ?", new Date(Date.now() - 1000).toISOString());
  });
  return runDurableObjectAlarm(stub);
}
