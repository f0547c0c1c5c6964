/**
 * Derives the job id from (project, Idempotency-Key): a retry lands on the same job object,
 * which then answers with the first reply.
 */
import { toHex } from "../lib/hex";

export async function idempotentJobId(projectId: string, key: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${projectId}\n${key}`)),
  );
  const hex = toHex(digest.subarray(0, 16));
  // Shaped as a version-8 (custom) UUID so ids look alike whichever way they were made.
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
