import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { WebhookVerificationError, verifyWebhook } from "../../src/notify/verify-webhook";
import { generateSecret, signWebhook } from "../../src/notify/webhook-signature";

const body = JSON.stringify({ id: "evt-1", type: "model.processed" });
const now = Date.UTC(2026, 0, 1);
const seconds = Math.floor(now / 1000);

async function signed(secret: string, at = seconds, id = "evt-1") {
  return { "webhook-id": id, "webhook-timestamp": String(at), "webhook-signature": await signWebhook(secret, id, at, body) };
}

describe("webhook signatures", () => {
  it("generates whsec_ secrets with 32 random bytes", () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(generateSecret()).not.toBe(secret);
  });

  it("signs exactly as the standardwebhooks library does", async () => {
    const secret = generateSecret();
    const ours = await signWebhook(secret, "evt-1", seconds, body);
    expect(ours).toBe(new Webhook(secret).sign("evt-1", new Date(now), body));
  });

  it("verifies a genuine delivery and returns the parsed event", async () => {
    const secret = generateSecret();
    expect(await verifyWebhook(secret, await signed(secret), body, { now })).toEqual({ id: "evt-1", type: "model.processed" });
    expect(await verifyWebhook(secret, new Headers(await signed(secret)), body, { now })).toMatchObject({ id: "evt-1" });
  });

  it("accepts a delivery signed by the standardwebhooks library", async () => {
    const secret = generateSecret();
    const headers = { "Webhook-Id": "evt-1", "Webhook-Timestamp": String(seconds), "Webhook-Signature": new Webhook(secret).sign("evt-1", new Date(now), body) };
    expect(await verifyWebhook(secret, headers, body, { now })).toMatchObject({ id: "evt-1" });
  });

  it("accepts any of several signatures, as during a secret rotation", async () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const headers = await signed(newSecret);
    headers["webhook-signature"] = `v1,${btoa("nope")} v2,xyz ${(await signed(oldSecret))["webhook-signature"]} ${headers["webhook-signature"]}`;
    expect(await verifyWebhook(oldSecret, headers, body, { now })).toMatchObject({ id: "evt-1" });
  });

  const rejections: [string, (secret: string) => Promise<[Record<string, string | undefined>, string]>, RegExp][] = [
    ["a tampered body", async (s) => [await signed(s), body.replace("processed", "failed")], /no matching signature/],
    ["another secret", async () => [await signed(generateSecret()), body], /no matching signature/],
    ["a changed id", async (s) => [{ ...(await signed(s)), "webhook-id": "evt-2" }, body], /no matching signature/],
    ["a missing signature", async (s) => [{ ...(await signed(s)), "webhook-signature": undefined }, body], /missing/],
    ["a signature that is not base64", async (s) => [{ ...(await signed(s)), "webhook-signature": "v1,@@@" }, body], /no matching signature/],
    ["a timestamp older than 5 minutes", async (s) => [await signed(s, seconds - 301), body], /too old/],
    ["a timestamp more than 5 minutes ahead", async (s) => [await signed(s, seconds + 301), body], /too new/],
    ["a timestamp that is not a number", async (s) => [{ ...(await signed(s)), "webhook-timestamp": "soon" }, body], /invalid webhook-timestamp/],
  ];

  it.each(rejections)("rejects %s", async (_name, make, message) => {
    const secret = generateSecret();
    const [headers, payload] = await make(secret);
    const error = await verifyWebhook(secret, headers, payload, { now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect(String(error)).toMatch(message);
  });

  it("rejects a secret that is not base64", async () => {
    await expect(verifyWebhook("whsec_!!!", await signed(generateSecret()), body, { now })).rejects.toThrow(/not a valid whsec_ secret/);
  });

  it("honours a custom tolerance", async () => {
    const secret = generateSecret();
    await expect(verifyWebhook(secret, await signed(secret, seconds - 30), body, { now, toleranceSeconds: 10 })).rejects.toThrow(/too old/);
  });

  describe("bounded work for a hostile sender", () => {
    it("computes the MAC once however many signatures the header carries", async () => {
      const secret = generateSecret();
      const headers = await signed(secret);
      const decoys = Array.from({ length: 9 }, (_, i) => `v1,${btoa(`decoy-${i}-${"x".repeat(26)}`)}`);
      headers["webhook-signature"] = `${decoys.join(" ")} ${headers["webhook-signature"]}`;
      const sign = vi.spyOn(crypto.subtle, "sign");
      const verify = vi.spyOn(crypto.subtle, "verify");
      try {
        expect(await verifyWebhook(secret, headers, body, { now })).toMatchObject({ id: "evt-1" });
        expect(sign).toHaveBeenCalledTimes(1);
        expect(verify).not.toHaveBeenCalled();
      } finally {
        sign.mockRestore();
        verify.mockRestore();
      }
    });

    it("considers at most 10 signatures: a genuine one in 11th place is not looked at", async () => {
      const secret = generateSecret();
      const headers = await signed(secret);
      const decoys = Array.from({ length: 10 }, () => `v1,${btoa("nope")}`);
      headers["webhook-signature"] = `${decoys.join(" ")} ${headers["webhook-signature"]}`;
      await expect(verifyWebhook(secret, headers, body, { now })).rejects.toThrow(/too many signatures/);
    });

    it("refuses a body above 1 MiB before computing anything", async () => {
      const secret = generateSecret();
      const big = JSON.stringify({ id: "evt-1", pad: "x".repeat(1024 * 1024) });
      const headers = { "webhook-id": "evt-1", "webhook-timestamp": String(seconds), "webhook-signature": await signWebhook(secret, "evt-1", seconds, big) };
      await expect(verifyWebhook(secret, headers, big, { now })).rejects.toThrow(/body is larger than 1048576 bytes/);
      expect(await verifyWebhook(secret, headers, big, { now, maxBodyBytes: 2 * 1024 * 1024 })).toMatchObject({ id: "evt-1" });
    });
  });
});
