import { describe, expect, it } from "vitest";
import { api, call, token } from "../support/worker";

describe("health routes", () => {
  it("answers liveness without a token", async () => {
    const response = await call(new Request(api("/healthz")));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/.+/);
  });

  it("reports readiness with config and storage state", async () => {
    const response = await call(new Request(api("/readyz"), { headers: { authorization: `Bearer ${await token(["*"])}` } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", environment: "test", storage: { driver: "memory", status: "ok" } });
  });

  it("demands a token for readiness", async () => {
    const response = await call(new Request(api("/readyz")));
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });
});
