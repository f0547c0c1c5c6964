/**
 * Idempotency-Key as draft-ietf-httpapi-idempotency-key-header has it: a key is bound to the
 * fingerprint of the first request that used it; the same request again replays the first
 * reply, another request under the key is refused (422), and one while the first is still
 * running is told to come back (409). The key's record lives in an object of its own
 * (src/idempotency/), apart from the job it points to, so a key that expired (IDEMPOTENCY_TTL)
 * starts a new job while the old one lives on for its retention.
 */
import { type IdempotencyKeys, idempotencyKeyName } from "../idempotency/client";
import type { AcceptedUpload } from "../jobs/record";
import { ProblemError } from "../lib/problem";

/** The owner renews its hold this often while its request runs. */
export const KEY_RENEW_MS = 30_000;
/** An owner not heard of for this long is taken for dead: its request no longer lives. */
export const KEY_TAKEOVER_MS = 4 * KEY_RENEW_MS;

/** A direct upload's fingerprint: the file name (as stored) and the SHA-256 of its bytes. */
export const fileFingerprint = (name: string, sha256: string): string => `file:${sha256}:${name}`;

/** A session completion's fingerprint: the session. Completing it again always answers its one job. */
export const sessionFingerprint = (uploadId: string): string => `upload-session:${uploadId}`;

export type KeyState =
  | { state: "held"; key: HeldKey; jobId: string; previousJobId?: string }
  | { state: "done"; fingerprint: string; reply: AcceptedUpload };

export interface KeyContext {
  keys: IdempotencyKeys;
  projectId: string;
  key: string;
  ttlMs: number;
  now?: () => number;
}

/** Claims the key for this request; throws 409 while another request holds it. */
export async function claimKey(context: KeyContext, jobId: string): Promise<KeyState> {
  const now = context.now ?? Date.now;
  const name = await idempotencyKeyName(context.projectId, context.key);
  const owner = crypto.randomUUID();
  const at = now();
  const claim = await context.keys.claim(name, {
    projectId: context.projectId,
    owner,
    jobId,
    now: at,
    expiresAt: at + context.ttlMs,
    takeoverMs: KEY_TAKEOVER_MS,
  });
  if (claim.state === "in-flight") throw keyInFlight();
  if (claim.state === "done") return claim;
  const key = new HeldKey(context.keys, name, owner, context.ttlMs, now);
  return claim.previousJobId === undefined ? { state: "held", key, jobId: claim.jobId } : { state: "held", key, jobId: claim.jobId, previousJobId: claim.previousJobId };
}

/** A key this request holds: renewed while the request runs, then completed or released. */
export class HeldKey {
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly keys: IdempotencyKeys,
    readonly name: string,
    readonly owner: string,
    readonly ttlMs: number,
    readonly now: () => number,
  ) {}

  /** Renews the hold every KEY_RENEW_MS until completed or released; a failed renewal waits for the next. */
  keepAlive(): void {
    this.#timer ??= setInterval(() => {
      const at = this.now();
      this.keys.renew(this.name, this.owner, at, at + this.ttlMs).catch(() => undefined);
    }, KEY_RENEW_MS);
  }

  /** Answers whether the key was still this request's (it may have been taken over meanwhile). */
  async complete(fingerprint: string, reply: AcceptedUpload): Promise<boolean> {
    this.#stop();
    const at = this.now();
    return this.keys.complete(this.name, this.owner, fingerprint, reply, at, at + this.ttlMs);
  }

  /** Frees the key after a failed request, so the client may retry with it. Best effort. */
  async release(): Promise<void> {
    this.#stop();
    await this.keys.release(this.name, this.owner).catch(() => undefined);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export function keyInFlight(): ProblemError {
  return new ProblemError({
    status: 409,
    slug: "idempotency-conflict",
    title: "Conflict",
    detail: "A request with this Idempotency-Key is still in progress; retry when it has finished.",
    headers: { "Retry-After": "5" },
  });
}

export function keyMismatch(what: string): ProblemError {
  return new ProblemError({
    status: 422,
    slug: "idempotency-key-mismatch",
    title: "Idempotency Key Reused",
    detail: `This Idempotency-Key was used for another request (${what}); nothing was stored. Use a new key for a new request.`,
  });
}
