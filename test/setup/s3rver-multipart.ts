// What s3rver 3.7 lacks of S3's multipart API, done on its data folder as S3 would:
// ListParts, and the checks of CompleteMultipartUpload (AbortMultipartUpload is in the proxy).
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

interface StoredUploadPart {
  partNumber: number;
  size: number;
  etag: string;
}

/** The parts s3rver keeps for an upload: files named by part number, each with a `.md5` beside it. */
function storedParts(root: string, bucket: string, uploadId: string): StoredUploadPart[] | null {
  const dir = uploadDir(root, bucket, uploadId);
  if (!/^[0-9a-f]+$/.test(uploadId) || !existsSync(dir)) return null;
  return readdirSync(dir)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(dir, `${name}.md5`)))
    .map((name) => ({
      partNumber: Number(name),
      size: statSync(join(dir, name)).size,
      etag: `"${readFileSync(join(dir, `${name}.md5`), "utf8").trim()}"`,
    }))
    .sort((a, b) => a.partNumber - b.partNumber);
}

/** S3's ListParts answer, with max-parts and part-number-marker paging. */
export function listParts(root: string, bucket: string, key: string, query: URLSearchParams): string | null {
  const parts = storedParts(root, bucket, query.get("uploadId") ?? "");
  if (parts === null) return null;
  const marker = Number(query.get("part-number-marker") ?? 0);
  const max = Math.min(1000, Number(query.get("max-parts") ?? 1000));
  const after = parts.filter((part) => part.partNumber > marker);
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const last = page.at(-1)?.partNumber ?? marker;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${query.get("uploadId") ?? ""}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${last}</NextPartNumberMarker>` +
    `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    page
      .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${escapeXml(part.etag)}</ETag><Size>${part.size}</Size></Part>`)
      .join("") +
    "</ListPartsResult>"
  );
}

/** What S3 checks on CompleteMultipartUpload and s3rver does not: each part's ETag, their order, their sizes. */
export function checkCompletion(root: string, bucket: string, uploadId: string, xml: string): { status: number; code: string; message: string } | null {
  const stored = storedParts(root, bucket, uploadId);
  if (stored === null) return { status: 404, code: "NoSuchUpload", message: "The specified multipart upload does not exist." };
  const named = [...xml.matchAll(/<Part>[\s\S]*?<\/Part>/g)].map((match) => ({
    partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(match[0])?.[1]),
    etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(match[0])?.[1] ?? "").replace(/&quot;/g, '"').replace(/"/g, ""),
  }));
  if (named.length === 0) return { status: 400, code: "MalformedXML", message: "The XML you provided was not well-formed." };
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  for (const [index, part] of named.entries()) {
    if (index > 0 && part.partNumber <= (named[index - 1]?.partNumber ?? 0)) {
      return { status: 400, code: "InvalidPartOrder", message: "The list of parts was not in ascending order." };
    }
    const found = byNumber.get(part.partNumber);
    if (!found || found.etag.replace(/"/g, "") !== part.etag) {
      return { status: 400, code: "InvalidPart", message: "One or more of the specified parts could not be found or its entity tag did not match." };
    }
    if (index < named.length - 1 && found.size < 5 * 1024 * 1024) {
      return { status: 400, code: "EntityTooSmall", message: "Your proposed upload is smaller than the minimum allowed object size." };
    }
  }
  return null;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** s3rver keeps an unfinished multipart upload as a folder `<dir>/<bucket>/._S3rver_uploads/<uploadId>`. */
export function uploadDir(root: string, bucket: string, uploadId: string): string {
  return join(root, bucket, "._S3rver_uploads", uploadId);
}

export function uploadsOnDisk(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((bucket) => {
    const dir = join(root, bucket, "._S3rver_uploads");
    return existsSync(dir) ? readdirSync(dir) : [];
  });
}
