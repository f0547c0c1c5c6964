import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/storage/object-storage";
import {
  S3StorageError,
  classifyS3Error,
  decodeXmlEntities,
  escapeXml,
  parseS3Error,
  s3ResponseError,
  s3TransportError,
  xmlText,
} from "../../src/storage/s3-errors";

const errorXml = (code: string, message = "message") =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Key>projects/p/models/1/a.ifc</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>abc</HostId></Error>`;

describe("S3 error responses", () => {
  it("reads code, message and request id from the XML body", () => {
    expect(parseS3Error(403, errorXml("SignatureDoesNotMatch", "The request signature we calculated does not match"))).toEqual({
      s3Code: "SignatureDoesNotMatch",
      message: "The request signature we calculated does not match",
      requestId: "4442587FB7D0A2F9",
    });
  });

  it("derives the code from the status when the answer has no body (HEAD)", () => {
    expect(parseS3Error(403, "").s3Code).toBe("AccessDenied");
    expect(parseS3Error(404, "").s3Code).toBe("NotFound");
    expect(parseS3Error(503, "").s3Code).toBe("SlowDown");
    expect(parseS3Error(500, "").s3Code).toBe("InternalError");
    expect(parseS3Error(429, "").s3Code).toBe("TooManyRequests");
    expect(parseS3Error(400, "").s3Code).toBe("BadRequest");
    expect(parseS3Error(502, "<html>bad gateway</html>")).toEqual({ s3Code: "Http502", message: undefined, requestId: undefined });
  });

  const cases: [number, string, string, boolean][] = [
    [403, "AccessDenied", "credentials", false],
    [403, "InvalidAccessKeyId", "credentials", false],
    [403, "SignatureDoesNotMatch", "credentials", false],
    [400, "ExpiredToken", "credentials", false],
    [403, "KMS.DisabledException", "credentials", false],
    [404, "NoSuchBucket", "missing-bucket", false],
    [503, "SlowDown", "throttled", true],
    [400, "Throttling", "throttled", true],
    [503, "ServiceUnavailable", "throttled", true],
    [429, "TooManyRequests", "throttled", true],
    [500, "InternalError", "unavailable", true],
    [502, "Http502", "unavailable", true],
    [400, "RequestTimeout", "unavailable", true],
    [400, "InvalidArgument", "rejected", false],
    [404, "NoSuchUpload", "no-such-upload", false],
    [400, "InvalidPart", "invalid-part", false],
    [400, "EntityTooSmall", "invalid-part", false],
  ];
  for (const [status, s3Code, code, retryable] of cases) {
    it(`maps ${status} ${s3Code} to ${code}${retryable ? ", retryable" : ", not retryable"}`, () => {
      expect(classifyS3Error(status, s3Code)).toEqual({ code, retryable });
    });
  }

  it("builds a StorageError that names the operation and code, with a hint for credentials", () => {
    const error = s3ResponseError("PutObject", 403, errorXml("SignatureDoesNotMatch"));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toBeInstanceOf(S3StorageError);
    expect(error.code).toBe("credentials");
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "S3 PutObject failed: 403 SignatureDoesNotMatch - message (request id 4442587FB7D0A2F9) (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket policy)",
    );
  });

  it("builds a retryable StorageError for throttling without a body", () => {
    const error = s3ResponseError("UploadPart", 503, "");
    expect(error.code).toBe("throttled");
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("S3 UploadPart failed: 503 SlowDown");
  });

  it("tells a timeout from an unreachable store", () => {
    const timeout = s3TransportError("UploadPart", new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    expect(timeout.code).toBe("timeout");
    expect(timeout.retryable).toBe(true);
    expect(timeout.message).toBe("S3 UploadPart timed out");
    const refused = s3TransportError("GetObject", new TypeError("connection refused"));
    expect(refused.code).toBe("unavailable");
    expect(refused.message).toContain("connection refused");
    expect(s3TransportError("HeadObject", "odd").message).toContain("odd");
  });

  it("decodes XML entities in texts and escapes ours", () => {
    expect(xmlText("<UploadId>a&amp;b&lt;c&#65;&#x42;&quot;&apos;&gt;&unknown;</UploadId>", "UploadId")).toBe("a&b<cAB\"'>&unknown;");
    expect(xmlText("<Other/>", "UploadId")).toBeUndefined();
    expect(decodeXmlEntities("plain")).toBe("plain");
    expect(escapeXml('"etag"&<>')).toBe('"etag"&amp;&lt;&gt;');
  });

  it("keeps a default code on storage errors of other adapters", () => {
    expect(new StorageError("R2 put failed", true).code).toBe("unavailable");
  });
});
