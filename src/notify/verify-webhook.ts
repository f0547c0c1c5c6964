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
  /** Larger bodies are refused before any MAC is computed; 1 MiB by default. */
  maxBodyBytes?: number;
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A rotation needs two; anything far beyond is someone making the receiver work. */
export const MAX_SIGNATURES = 10;

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

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // A string's UTF-8 length is at least its length in UTF-16 units: the cheap check first.
  if (body.length > maxBodyBytes) throw new WebhookVerificationError(`the body is larger than ${maxBodyBytes} bytes`);
  const candidates = signatures.split(" ").filter((entry) => entry !== "");
  if (candidates.length > MAX_SIGNATURES) throw new WebhookVerificationError(`too many signatures (at most ${MAX_SIGNATURES})`);
  const content = signedContent(id, seconds, body);
  if (content.byteLength - new TextEncoder().encode(`${id}.${seconds}.`).byteLength > maxBodyBytes) {
    throw new WebhookVerificationError(`the body is larger than ${maxBodyBytes} bytes`);
  }

  let key: CryptoKey;
  try {
    key = await hmacKey(secret, "sign");
  } catch {
    throw new WebhookVerificationError("the secret is not a valid whsec_ secret");
  }
  // One MAC for every candidate, each compared in constant time: the cost does not grow with
  // the number of signatures beyond a comparison, and timing says nothing about the expected MAC.
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
  // The header may carry several space-separated signatures (during a secret rotation).
  let matched = false;
  for (const entry of candidates) {
    const [version, encoded] = entry.split(",", 2);
    if (version !== "v1" || !encoded) continue;
    let candidate: Uint8Array;
    try {
      candidate = fromBase64(encoded);
    } catch {
      continue;
    }
    if (constantTimeEqual(candidate, expected)) matched = true;
  }
  if (matched) return JSON.parse(body) as T;
  throw new WebhookVerificationError("no matching signature");
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found[0] : found;
}
