import { StorageError, type StorageErrorCode } from "./object-storage";

/** What an S3 error response says: `<Error><Code>..</Code><Message>..</Message><RequestId>..`. */
export interface S3ErrorDetails {
  /** S3's code; derived from the status when the body has none (HEAD answers have no body). */
  s3Code: string;
  message: string | undefined;
  requestId: string | undefined;
}

const CREDENTIAL_CODES = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
  "TokenRefreshRequired",
  "AllAccessDisabled",
  "AccountProblem",
  "InvalidSecurity",
]);
const THROTTLE_CODES = new Set(["SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "RequestThrottled"]);
// RequestTimeout is S3 giving up on a slow request body: sending it again can work.
const SERVER_CODES = new Set(["InternalError", "ServiceUnavailable", "RequestTimeout"]);

/** Reads the first `<tag>` of an S3 XML document; S3's error bodies are flat, so no parser is needed. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match?.[1] === undefined ? undefined : decodeXmlEntities(match[1].trim());
}

export function decodeXmlEntities(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (entity, name: string, dec?: string, hex?: string) => {
    if (dec !== undefined) return String.fromCodePoint(Number(dec));
    if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16));
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    return named[name] ?? entity;
  });
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Parses an error answer; `body` may be empty (HEAD) or not XML (a proxy's HTML page). */
export function parseS3Error(status: number, body: string): S3ErrorDetails {
  const code = body.includes("<Error") ? xmlText(body, "Code") : undefined;
  return {
    s3Code: code || codeForStatus(status),
    message: code ? xmlText(body, "Message") : undefined,
    requestId: code ? xmlText(body, "RequestId") : undefined,
  };
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "BadRequest";
    case 403:
      return "AccessDenied";
    case 404:
      return "NotFound";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "SlowDown";
    default:
      return `Http${status}`;
  }
}

export interface S3ErrorClass {
  code: StorageErrorCode;
  retryable: boolean;
}

/** S3's vocabulary to the domain's: what failed, and whether another try can help. */
export function classifyS3Error(status: number, s3Code: string): S3ErrorClass {
  if (CREDENTIAL_CODES.has(s3Code) || s3Code.startsWith("KMS.")) return { code: "credentials", retryable: false };
  if (s3Code === "NoSuchBucket") return { code: "missing-bucket", retryable: false };
  if (s3Code === "NoSuchUpload") return { code: "no-such-upload", retryable: false };
  if (s3Code === "InvalidPart" || s3Code === "InvalidPartOrder" || s3Code === "EntityTooSmall") return { code: "invalid-part", retryable: false };
  if (THROTTLE_CODES.has(s3Code) || status === 429 || status === 503) return { code: "throttled", retryable: true };
  if (SERVER_CODES.has(s3Code) || status >= 500) return { code: "unavailable", retryable: true };
  return { code: "rejected", retryable: false };
}

/**
 * The StorageError for an S3 error answer. The message names the operation, S3's code and
 * request id (what an operator needs to look it up), and never the credentials.
 */
export function s3ResponseError(operation: string, status: number, body: string): StorageError {
  const details = parseS3Error(status, body);
  const { code, retryable } = classifyS3Error(status, details.s3Code);
  const hint = code === "credentials" ? " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket policy)" : "";
  const message =
    `S3 ${operation} failed: ${status} ${details.s3Code}` +
    (details.message ? ` - ${details.message}` : "") +
    (details.requestId ? ` (request id ${details.requestId})` : "") +
    hint;
  return new S3StorageError(message, retryable, code, details);
}

/** A StorageError that keeps S3's own code for logs and tests. */
export class S3StorageError extends StorageError {
  constructor(
    message: string,
    retryable: boolean,
    code: StorageErrorCode,
    readonly s3: S3ErrorDetails,
  ) {
    super(message, retryable, { code });
  }
}

/** A fetch that threw: a timeout (AbortSignal.timeout) or a connection that failed. */
export function s3TransportError(operation: string, error: unknown): StorageError {
  const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
  return new StorageError(
    timedOut ? `S3 ${operation} timed out` : `S3 ${operation} could not reach the store: ${error instanceof Error ? error.message : String(error)}`,
    true,
    { cause: error, code: timedOut ? "timeout" : "unavailable" },
  );
}
