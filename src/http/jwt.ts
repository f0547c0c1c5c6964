/**
 * HS256 bearer tokens, checked with Web Crypto alone. The secret is imported as its raw
 * UTF-8 bytes whatever it contains (a PEM sniffing importer takes a secret containing
 * `PUBLIC` or `PRIVATE` for a key file and refuses every token), and the time claims get a
 * leeway for clocks that disagree a little.
 */
export interface JwtChecks {
  /** Seconds of clock skew allowed on exp, nbf and iat. */
  leewaySeconds: number;
  /** When set, `iss` must equal it. */
  issuer?: string | undefined;
  /** When set, `aud` (a string or a list) must contain it. */
  audience?: string | undefined;
  /** Epoch seconds; for tests. */
  nowSeconds?: number;
}

export type JwtFailure = "malformed" | "algorithm" | "signature" | "expired" | "not-yet-valid" | "issued-in-future" | "issuer" | "audience";

export class JwtError extends Error {
  constructor(readonly reason: JwtFailure) {
    super(`token refused: ${reason}`);
    this.name = "JwtError";
  }
}

export const DEFAULT_LEEWAY_SECONDS = 60;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify", "sign"]);
    // One key per secret for the isolate's life; a deployment has one or two.
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new JwtError("malformed");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function jsonPart(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(base64UrlDecode(text)));
  } catch (error) {
    if (error instanceof JwtError) throw error;
    throw new JwtError("malformed");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new JwtError("malformed");
  return value as Record<string, unknown>;
}

const numeric = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/** The token's payload once signature, time claims and the optional iss/aud all hold. */
export async function verifyHs256(token: string, secret: string, checks: JwtChecks): Promise<Record<string, unknown>> {
  const parts = token.split(".");
  const [head, body, signature] = parts;
  if (parts.length !== 3 || head === undefined || body === undefined || signature === undefined) throw new JwtError("malformed");
  if (jsonPart(head).alg !== "HS256") throw new JwtError("algorithm");
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), base64UrlDecode(signature), encoder.encode(`${head}.${body}`));
  if (!valid) throw new JwtError("signature");
  const payload = jsonPart(body);
  const now = checks.nowSeconds ?? Math.floor(Date.now() / 1000);
  const leeway = checks.leewaySeconds;
  const exp = numeric(payload.exp);
  if (payload.exp !== undefined && (exp === undefined || now - leeway >= exp)) throw new JwtError("expired");
  const nbf = numeric(payload.nbf);
  if (payload.nbf !== undefined && (nbf === undefined || now + leeway < nbf)) throw new JwtError("not-yet-valid");
  const iat = numeric(payload.iat);
  if (payload.iat !== undefined && (iat === undefined || now + leeway < iat)) throw new JwtError("issued-in-future");
  if (checks.issuer !== undefined && payload.iss !== checks.issuer) throw new JwtError("issuer");
  if (checks.audience !== undefined) {
    const aud = payload.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(checks.audience)) throw new JwtError("audience");
  }
  return payload;
}

/** Signs an HS256 token with the same raw-bytes key (scripts and tests use it). */
export async function signHs256(payload: Record<string, unknown>, secret: string): Promise<string> {
  const head = base64UrlEncode(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = base64UrlEncode(encoder.encode(JSON.stringify(payload)));
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${head}.${body}`));
  return `${head}.${body}.${base64UrlEncode(new Uint8Array(mac))}`;
}
