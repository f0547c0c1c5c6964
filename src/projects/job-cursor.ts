/**
 * Listing cursors: the position after the last item of a page, (createdAt, jobId), so a page
 * is stable while jobs are added in front of it. Opaque to clients (base64url JSON).
 */
export interface JobCursor {
  createdAt: string;
  jobId: string;
}

export function encodeCursor(cursor: JobCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([cursor.createdAt, cursor.jobId]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Null for anything this service did not hand out. */
export function decodeCursor(text: string): JobCursor | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [createdAt, jobId] = parsed as unknown[];
    if (typeof createdAt !== "string" || typeof jobId !== "string" || createdAt === "" || jobId === "") return null;
    return { createdAt, jobId };
  } catch {
    return null;
  }
}
