import { DurableObject } from "cloudflare:workers";
import type { AcceptedUpload } from "../jobs/record";
import { IdempotencyKeyState, type KeyClaim, type KeyClaimRequest } from "./state";

/**
 * One object per Idempotency-Key, named from (project, key) by client.ts: the key's record
 * (state.ts) and an alarm at its expiry. It lives apart from the job it points to, so an
 * expired key starts a new job while the old one lives on for its own retention. Once the
 * record is gone (expired, or released after a failed request) the object holds nothing.
 */
export class IdempotencyKeyObject extends DurableObject<Env> {
  // Created on first use, not in the constructor: a call that finds no record (a renewal after
  // the expiry, say) must leave no table behind.
  #stateOnce: IdempotencyKeyState | undefined;

  get #state(): IdempotencyKeyState {
    this.#stateOnce ??= new IdempotencyKeyState(this.ctx.storage);
    return this.#stateOnce;
  }

  #stored(): boolean {
    return this.#stateOnce !== undefined || this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").toArray().length > 0;
  }

  /** Holds the key for this request, or answers who holds it or what it answered. */
  async claim(request: KeyClaimRequest): Promise<KeyClaim> {
    const claim = this.#state.claim(request);
    await this.#arm();
    return claim;
  }

  /** The owner's sign of life while its request runs; false once the key is not its own. */
  async renew(owner: string, now: number, expiresAt: number): Promise<boolean> {
    if (!this.#stored()) return false;
    const renewed = this.#state.renew(owner, now, expiresAt);
    if (renewed) await this.#arm();
    return renewed;
  }

  /** The owner's request finished: the key replays `reply` to requests with the same fingerprint. */
  async complete(owner: string, fingerprint: string, reply: AcceptedUpload, now: number, expiresAt: number): Promise<boolean> {
    if (!this.#stored()) return false;
    const completed = this.#state.complete(owner, fingerprint, reply, now, expiresAt);
    if (completed) await this.#arm();
    return completed;
  }

  /** The owner's request failed: the key is free, and the object holds nothing. */
  async release(owner: string): Promise<void> {
    if (this.#stored() && this.#state.release(owner)) await this.#clear();
  }

  /** The record's expiry: it goes, unless it was renewed or completed since the alarm was set. */
  override async alarm(): Promise<void> {
    const at = this.#stored() ? this.#state.expiresAt() : null;
    if (at === null || at <= Date.now()) await this.#clear();
    else await this.ctx.storage.setAlarm(at);
  }

  async #arm(): Promise<void> {
    const at = this.#state.expiresAt();
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  async #clear(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#stateOnce = undefined;
  }
}
