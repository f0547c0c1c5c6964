const FALLBACK_NAME = "model.ifc";
const MAX_NAME_BYTES = 200;

/**
 * Turns a client-supplied name into one safe as the last segment of an object key:
 * no directories, no `..`, no control or separator characters, bounded length.
 */
export function sanitizeFilename(raw: string | undefined): string {
  if (!raw) return FALLBACK_NAME;
  const lastSegment = raw.normalize("NFC").split(/[/\\]/).pop() ?? "";
  const cleaned = lastSegment
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "")
    .replace(/[<>:"|?*#%{}^~[\]`]/g, "_")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^\.+/, "");
  const bounded = truncateUtf8(cleaned, MAX_NAME_BYTES);
  return bounded === "" ? FALLBACK_NAME : bounded;
}

function truncateUtf8(value: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(value).byteLength <= maxBytes) return value;
  let out = "";
  let bytes = 0;
  for (const ch of value) {
    const size = encoder.encode(ch).byteLength;
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function modelObjectKey(projectId: string, jobId: string, name: string): string {
  return `projects/${projectId}/models/${jobId}/${name}`;
}
