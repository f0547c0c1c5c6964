/**
 * For receivers of our webhooks: checks a delivery's Standard Webhooks signature and age.
 * Runs anywhere with Web Crypto (Workers, Node >= 20, browsers); depends on nothing else.
 */
// With the extension, so Node >= 22.18 can import this exported file directly (type stripping).
import { fromBase64, hmacKey, signedContent } from "./webhook-signature.ts";

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

export interface VerifyOptions {
  /** Seconds a delivery may be older or newer than `now`; 5 minutes by default. */
  toleranceSeconds?: number;
  /** Epoch milliseconds; for tests. */
  now?: number;
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * Verifies `body` (the raw request body, exactly as received) against the `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` headers and returns the parsed event.
 * Throws WebhookVerificationError when anything does not match.
 */
export async function verifyWebhook<T = unknown>(secret: string, headers: HeaderSource, body: string, options: VerifyOptions = {}): Promise<T> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("invalid webhook-timestamp");
  const seconds = Number(timestamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - seconds > tolerance) throw new WebhookVerificationError("message timestamp too old");
  if (seconds - now > tolerance) throw new WebhookVerificationError("message timestamp too new");

  let key: CryptoKey;
  try {
    key = await hmacKey(secret, "verify");
  } catch {
    throw new WebhookVerificationError("the secret is not a valid whsec_ secret");
  }
  const content = signedContent(id, seconds, body);
  // The header may carry several space-separated signatures (during a secret rotation).
  for (const entry of signatures.split(" ")) {
    const [version, encoded] = entry.split(",", 2);
    if (version !== "v1" || !encoded) continue;
    let candidate: Uint8Array;
    try {
      candidate = fromBase64(encoded);
    } catch {
      continue;
    }
    // HMAC verify compares in constant time, so timing reveals nothing about the expected MAC.
    if (await crypto.subtle.verify("HMAC", key, candidate, content)) return JSON.parse(body) as T;
  }
  throw new WebhookVerificationError("no matching signature");
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found[0] : found;
}
