import { toHex } from "../lib/hex";
import type { AcceptedUpload } from "../jobs/record";
import type { KeyClaim, KeyClaimRequest } from "./state";

/** The Idempotency-Key records, one object per key, by the name idempotencyKeyName() gives. */
export interface IdempotencyKeys {
  claim(name: string, request: KeyClaimRequest): Promise<KeyClaim>;
  renew(name: string, owner: string, now: number, expiresAt: number): Promise<boolean>;
  complete(name: string, owner: string, fingerprint: string, reply: AcceptedUpload, now: number, expiresAt: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

/** The name of the object that keeps a key's record: a digest of (project, key), one length whatever the key. */
export async function idempotencyKeyName(projectId: string, key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${projectId}\n${key}`)));
  return `idempotency-key:${toHex(digest)}`;
}

export function durableIdempotencyKeys(namespace: Env["IDEMPOTENCY_KEYS"]): IdempotencyKeys {
  const stub = (name: string) => namespace.get(namespace.idFromName(name));
  return {
    claim: (name, request) => stub(name).claim(request),
    renew: (name, owner, now, expiresAt) => stub(name).renew(owner, now, expiresAt),
    complete: (name, owner, fingerprint, reply, now, expiresAt) => stub(name).complete(owner, fingerprint, reply, now, expiresAt),
    release: (name, owner) => stub(name).release(owner),
  };
}
