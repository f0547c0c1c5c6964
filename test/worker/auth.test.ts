import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import type { ProblemBody } from "../../src/lib/problem";
import { TEST_JWT_SECRET } from "../support/constants";
import { api, call, token } from "../support/worker";

const now = () => Math.floor(Date.now() / 1000);

/** A request that needs a valid token: a job that does not exist answers 404 once past auth. */
async function readMissingJob(bearer: string, overrides = {}): Promise<Response> {
  return call(new Request(api(`/v1/jobs/${crypto.randomUUID()}`), { headers: { authorization: `Bearer ${bearer}` } }), overrides);
}

/** HS256 by hand with Web Crypto (hono's signer mistakes such secrets for PEM keys too). */
async function signRaw(payload: Record<string, unknown>, secret: string): Promise<string> {
  const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const text = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${text({ alg: "HS256", typ: "JWT" })}.${text(payload)}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `${input}.${b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input))))}`;
}

const claims = (extra: Record<string, unknown> = {}) => ({ sub: "t", projects: ["*"], iat: now(), exp: now() + 600, ...extra });

describe("bearer tokens", () => {
  it("allows 60 s of clock skew on exp, nbf and iat", async () => {
    for (const extra of [{ exp: now() - 30 }, { nbf: now() + 30 }, { iat: now() + 30 }]) {
      expect((await readMissingJob(await sign(claims(extra), TEST_JWT_SECRET, "HS256"))).status).toBe(404);
    }
  });

  it("refuses tokens beyond the leeway", async () => {
    const expired = await readMissingJob(await sign(claims({ exp: now() - 90 }), TEST_JWT_SECRET, "HS256"));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as ProblemBody).detail).toMatch(/expired/);
    const early = await readMissingJob(await sign(claims({ nbf: now() + 90 }), TEST_JWT_SECRET, "HS256"));
    expect(early.status).toBe(401);
  });

  it("imports the secret as raw bytes: one containing PUBLIC or PRIVATE works", async () => {
    for (const secret of ["-----BEGIN PUBLIC KEY----- not a key 0123456789", "PRIVATE-deployment-secret-0123456789abcdef"]) {
      const signed = await signRaw(claims(), secret);
      expect((await readMissingJob(signed, { AUTH_JWT_SECRET: secret })).status).toBe(404);
      expect((await readMissingJob(await token(["*"]), { AUTH_JWT_SECRET: secret })).status).toBe(401);
    }
  });

  it("checks AUTH_ISSUER and AUTH_AUDIENCE when they are set", async () => {
    const settings = { AUTH_ISSUER: "https://id.example.com", AUTH_AUDIENCE: "ifc-ingest" };
    const good = await sign(claims({ iss: settings.AUTH_ISSUER, aud: ["other", "ifc-ingest"] }), TEST_JWT_SECRET, "HS256");
    expect((await readMissingJob(good, settings)).status).toBe(404);
    const wrongIssuer = await sign(claims({ iss: "https://evil.example.com", aud: "ifc-ingest" }), TEST_JWT_SECRET, "HS256");
    expect((await readMissingJob(wrongIssuer, settings)).status).toBe(401);
    const noAudience = await sign(claims({ iss: settings.AUTH_ISSUER }), TEST_JWT_SECRET, "HS256");
    expect((await readMissingJob(noAudience, settings)).status).toBe(401);
    // Unset: neither claim is looked at.
    expect((await readMissingJob(wrongIssuer)).status).toBe(404);
  });

  it("refuses other algorithms and tampered tokens", async () => {
    const none = `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${btoa(JSON.stringify(claims())).replace(/=+$/, "")}.`;
    expect((await readMissingJob(none)).status).toBe(401);
    const good = await token(["*"]);
    expect((await readMissingJob(`${good.slice(0, -2)}xx`)).status).toBe(401);
    expect((await readMissingJob("a.b")).status).toBe(401);
  });
});

describe("a misconfigured service", () => {
  const broken = { ENVIRONMENT: "staging", AUTH_JWT_SECRET: "short", MAX_UPLOAD_BYTES: "-1" };

  it("names the bad settings to operators only", async () => {
    const operator = await sign(claims({ projects: ["*"] }), "short", "HS256");
    const operatorView = await readMissingJob(operator, broken);
    expect(operatorView.status).toBe(500);
    const detail = ((await operatorView.json()) as ProblemBody).detail;
    for (const name of ["ENVIRONMENT", "AUTH_JWT_SECRET", "MAX_UPLOAD_BYTES"]) expect(detail).toContain(name);

    for (const tenant of [await sign(claims({ projects: ["demo"] }), "short", "HS256"), await token(["*"]), "garbage"]) {
      const response = await readMissingJob(tenant, broken);
      expect(response.status).toBe(500);
      const body = (await response.json()) as ProblemBody;
      expect(body.type).toMatch(/misconfigured$/);
      expect(body.detail).not.toMatch(/ENVIRONMENT|AUTH_JWT_SECRET|MAX_UPLOAD_BYTES/);
    }
  });
});
