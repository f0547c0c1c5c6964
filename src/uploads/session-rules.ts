/** Part sizes and completion checks of upload sessions. Pure: no I/O. */
import type { PartRef, StoredPart } from "../storage/object-storage";

const MiB = 1024 * 1024;
/** Parts are at least 8 MiB (S3 and R2 refuse less than 5 MiB but the last). */
export const MIN_PART_SIZE = 8 * MiB;
/** One part must pass the edge's 100 MB request body limit (Free and Pro plans). */
export const MAX_PART_SIZE = 95 * MiB;
/** S3 and R2 number parts 1..10 000. */
export const MAX_PARTS = 10_000;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/** The smallest whole-MiB part size of at least 8 MiB that needs no more than 10 000 parts. */
export function planParts(size: number): PartPlan | null {
  const partSize = Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  if (partSize > MAX_PART_SIZE) return null;
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Every part but the last is exactly partSize; the last is the rest. */
export function expectedPartSize(partNumber: number, size: number, plan: PartPlan): number {
  return partNumber < plan.partCount ? plan.partSize : size - plan.partSize * (plan.partCount - 1);
}

/** ETags compared without the quotes some clients drop (S3 sends them quoted). */
export const sameEtag = (a: string, b: string): boolean => unquote(a) === unquote(b);
const unquote = (etag: string): string => etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");

export type CompletionCheck =
  | { ok: true; parts: PartRef[] }
  | { ok: false; reason: "missing"; missingParts: number[] }
  | { ok: false; reason: "mismatch"; mismatchedParts: number[] }
  | { ok: false; reason: "wrong-size"; wrongSizeParts: number[] };

/**
 * Checks the client's list against what storage holds and the declared size: every part
 * 1..partCount stored with its expected size, and named by the client with storage's ETag.
 * The parts handed to storage carry storage's own ETags.
 */
export function checkCompletion(stored: StoredPart[], named: PartRef[], size: number, plan: PartPlan): CompletionCheck {
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const claimed = new Map(named.map((part) => [part.partNumber, part.etag]));
  const all = Array.from({ length: plan.partCount }, (_, index) => index + 1);
  const missing = all.filter((n) => !byNumber.has(n) || !claimed.has(n));
  if (missing.length > 0) return { ok: false, reason: "missing", missingParts: missing };
  const extra = named.filter((part) => part.partNumber < 1 || part.partNumber > plan.partCount).map((part) => part.partNumber);
  const mismatched = [...extra, ...all.filter((n) => !sameEtag(byNumber.get(n)?.etag ?? "", claimed.get(n) ?? ""))];
  if (mismatched.length > 0) return { ok: false, reason: "mismatch", mismatchedParts: mismatched };
  const wrongSize = all.filter((n) => byNumber.get(n)?.size !== expectedPartSize(n, size, plan));
  if (wrongSize.length > 0) return { ok: false, reason: "wrong-size", wrongSizeParts: wrongSize };
  return { ok: true, parts: all.map((n) => ({ partNumber: n, etag: byNumber.get(n)?.etag ?? "" })) };
}
