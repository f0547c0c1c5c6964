// A SigV4-verifying reverse proxy in front of s3rver (which checks only the access key id).
// Every request's signature is recomputed with AWS's own signer (@smithy/signature-v4) and
// a mismatch is answered like S3 does: 403 <Error><Code>SignatureDoesNotMatch</Code>.
// Presigned (query-signed) requests are verified the same way, with the signer's presign, and
// refused once X-Amz-Expires has passed. It also records every request and supplies what
// s3rver 3.7 lacks, as S3 does it: AbortMultipartUpload and ListParts (s3rver answers 405 to
// both) and the ETag, order and size checks of CompleteMultipartUpload (s3rver checks none).
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { type IncomingMessage, request as httpRequest, type Server, type ServerResponse, createServer } from "node:http";
import { join } from "node:path";
import type { FaultRule, PendingUpload, RecordedRequest, S3Operation, UploadsReport } from "../support/s3-peer-info.ts";

export type { FaultRule, PendingUpload, RecordedRequest, S3Operation };

export interface ProxyOptions {
  /** s3rver's base URL, e.g. http://127.0.0.1:4568 */
  upstream: string;
  /** accessKeyId -> secretAccessKey the proxy accepts. */
  credentials: Record<string, string>;
  /** s3rver's data folder: where its multipart uploads live, to abort them. */
  s3rverDirectory: string;
}

export interface SigV4Proxy {
  url: string;
  server: Server;
  requests(): RecordedRequest[];
  pendingUploads(): PendingUpload[];
  close(): Promise<void>;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export async function startSigV4Proxy(options: ProxyOptions): Promise<SigV4Proxy> {
  const recorded: RecordedRequest[] = [];
  const pending = new Map<string, PendingUpload>();
  const faults: FaultRule[] = [];
  let seq = 0;
  const started = performance.now();
  const now = () => Math.round(performance.now() - started);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, "InternalError", `proxy failure: ${String(error)}`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy");
    if (url.pathname.startsWith("/__proxy/")) return control(req, res, url);

    const startedAt = now();
    const body = await readBody(req);
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const bucket = segments[0] ?? "";
    const key = segments.slice(1).join("/");
    const query = Object.fromEntries(url.searchParams);
    const operation = classify(req.method ?? "GET", key, url.searchParams);
    const entry: RecordedRequest = {
      seq: ++seq,
      method: req.method ?? "GET",
      bucket,
      key,
      query,
      operation,
      sse: header(req, "x-amz-server-side-encryption"),
      sseKmsKeyId: header(req, "x-amz-server-side-encryption-aws-kms-key-id"),
      contentSha256: header(req, "x-amz-content-sha256"),
      bytes: body.byteLength,
      signature: "missing",
      presigned: url.searchParams.has("X-Amz-Signature"),
      status: 0,
      startedAt,
      endedAt: 0,
    };
    recorded.push(entry);
    res.on("finish", () => {
      entry.endedAt = now();
    });
    const reply = (status: number, code: string, message: string) => {
      entry.status = status;
      sendError(res, status, code, message);
    };

    const verdict = entry.presigned ? await verifyPresigned(req, url, options.credentials) : await verifySignature(req, url, body, options.credentials);
    entry.signature = verdict;
    if (verdict === "missing") return reply(403, "AccessDenied", "Anonymous access is not allowed.");
    if (verdict === "expired") return reply(403, "AccessDenied", "Request has expired");
    if (verdict === "unknown-key") return reply(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    if (verdict === "mismatch") {
      return reply(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
    }
    const declared = entry.contentSha256;
    if (declared?.startsWith("STREAMING-")) return reply(400, "NotImplemented", "aws-chunked payloads are not supported here.");
    if (declared && declared !== "UNSIGNED-PAYLOAD" && declared !== createHash("sha256").update(body).digest("hex")) {
      return reply(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }

    const fault = faults.find(
      (rule) =>
        rule.times > 0 &&
        rule.operation === operation &&
        key.startsWith(rule.keyPrefix) &&
        (rule.partNumber === undefined || String(rule.partNumber) === url.searchParams.get("partNumber")),
    );
    if (fault) {
      fault.times--;
      if (fault.delayMs) await new Promise((done) => setTimeout(done, fault.delayMs));
      if (fault.status !== undefined) return reply(fault.status, fault.code ?? "InternalError", `injected ${fault.code ?? "fault"}`);
    }

    if (operation === "AbortMultipartUpload") {
      // s3rver 3.7 answers MethodNotAllowed here; do what S3 does: drop the upload and its parts.
      const uploadId = url.searchParams.get("uploadId") ?? "";
      const dir = uploadDir(options.s3rverDirectory, bucket, uploadId);
      if (!/^[0-9a-f]+$/.test(uploadId) || !existsSync(dir)) {
        return reply(404, "NoSuchUpload", "The specified multipart upload does not exist.");
      }
      rmSync(dir, { recursive: true, force: true });
      pending.delete(uploadId);
      entry.status = 204;
      res.writeHead(204).end();
      return;
    }

    if (operation === "ListParts") {
      const listing = listParts(options.s3rverDirectory, bucket, key, url.searchParams);
      if (listing === null) return reply(404, "NoSuchUpload", "The specified multipart upload does not exist.");
      entry.status = 200;
      res.writeHead(200, { "content-type": "application/xml" }).end(listing);
      return;
    }
    if (operation === "CompleteMultipartUpload") {
      const refusal = checkCompletion(options.s3rverDirectory, bucket, url.searchParams.get("uploadId") ?? "", body.toString("utf8"));
      if (refusal) return reply(refusal.status, refusal.code, refusal.message);
    }

    const upstream = await forward(options.upstream, req, url, body);
    entry.status = upstream.status;
    if (operation === "CreateMultipartUpload" && upstream.status === 200) {
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(upstream.body.toString("utf8"))?.[1];
      if (uploadId) pending.set(uploadId, { uploadId, bucket, key });
    }
    if (operation === "CompleteMultipartUpload" && upstream.status === 200 && !upstream.body.includes("<Error>")) {
      pending.delete(url.searchParams.get("uploadId") ?? "");
    }
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const prefix = url.searchParams.get("prefix") ?? "";
    const json = (value: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    switch (`${req.method} ${url.pathname}`) {
      case "GET /__proxy/requests":
        return json(recorded.filter((entry) => entry.key.startsWith(prefix)));
      case "GET /__proxy/uploads": {
        const report: UploadsReport & { allOnDisk: string[] } = {
          pending: [...pending.values()].filter((upload) => upload.key.startsWith(prefix)),
          // Cross-check against s3rver's own folder of unfinished uploads.
          onDisk: [...pending.values()]
            .filter((upload) => upload.key.startsWith(prefix) && existsSync(uploadDir(options.s3rverDirectory, upload.bucket, upload.uploadId)))
            .map((upload) => upload.uploadId),
          allOnDisk: uploadsOnDisk(options.s3rverDirectory),
        };
        return json(report);
      }
      case "POST /__proxy/faults": {
        const rule = JSON.parse((await readBody(req)).toString("utf8")) as FaultRule;
        faults.push(rule);
        return json({ ok: true });
      }
      default:
        res.writeHead(404).end();
    }
  }

  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    requests: () => [...recorded],
    pendingUploads: () => [...pending.values()],
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function classify(method: string, key: string, query: URLSearchParams): S3Operation {
  if (key === "") {
    if (method === "GET") return "ListObjects";
    if (method === "HEAD") return "HeadBucket";
    if (method === "PUT") return "CreateBucket";
    return "Other";
  }
  switch (method) {
    case "PUT":
      return query.has("uploadId") ? "UploadPart" : "PutObject";
    case "POST":
      if (query.has("uploads")) return "CreateMultipartUpload";
      return query.has("uploadId") ? "CompleteMultipartUpload" : "Other";
    case "DELETE":
      return query.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
    case "GET":
      return query.has("uploadId") ? "ListParts" : "GetObject";
    case "HEAD":
      return "HeadObject";
    default:
      return "Other";
  }
}

/** Recomputes the signature with @smithy/signature-v4 from what the request declares it signed. */
async function verifySignature(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  credentials: Record<string, string>,
): Promise<RecordedRequest["signature"]> {
  const match = AUTH_PATTERN.exec(header(req, "authorization") ?? "");
  if (!match) return "missing";
  const [, accessKeyId = "", , region = "", service = "", signedHeaderList = "", signature = ""] = match;
  const secretAccessKey = credentials[accessKeyId];
  if (secretAccessKey === undefined) return "unknown-key";
  const amzDate = header(req, "x-amz-date") ?? "";
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date) return "mismatch";
  const signingDate = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);

  const signedHeaders = signedHeaderList.split(";");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(req, name);
    if (value === null) return "mismatch";
    headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  // S3 signs the key URI-encoded once: rebuild that from the decoded path, as S3 does.
  const path = url.pathname
    .split("/")
    .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
    .join("/");
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: req.method ?? "GET", protocol: "http:", hostname: url.hostname, path, query, headers, body },
    { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1];
  const expectedHeaders = /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization ?? ""))?.[1];
  return expected === signature && expectedHeaders === signedHeaderList ? "valid" : "mismatch";
}

const PRESIGN_PARAMS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"];

/**
 * A presigned request: signs the same request again with the signer's presign (S3 presigned
 * URLs carry UNSIGNED-PAYLOAD) and compares signatures; past X-Amz-Date + X-Amz-Expires it is
 * refused as S3 refuses it.
 */
async function verifyPresigned(req: IncomingMessage, url: URL, credentials: Record<string, string>): Promise<RecordedRequest["signature"]> {
  const params = url.searchParams;
  if (params.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return "mismatch";
  const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(params.get("X-Amz-Credential") ?? "");
  if (!credential) return "mismatch";
  const [, accessKeyId = "", , region = "", service = ""] = credential;
  const secretAccessKey = credentials[accessKeyId];
  if (secretAccessKey === undefined) return "unknown-key";
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get("X-Amz-Date") ?? "");
  const expiresIn = Number(params.get("X-Amz-Expires"));
  if (!date || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) return "mismatch";
  const signingDate = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
  const signedHeaders = (params.get("X-Amz-SignedHeaders") ?? "").split(";").filter(Boolean);
  const headers: Record<string, string> = { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
  for (const name of signedHeaders) {
    const value = header(req, name);
    if (value === null) return "mismatch";
    headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    if (PRESIGN_PARAMS.includes(name)) continue;
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const path = url.pathname
    .split("/")
    .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
    .join("/");
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const presigned = await signer.presign(
    { method: req.method ?? "GET", protocol: "http:", hostname: url.hostname, path, query, headers },
    {
      signingDate,
      expiresIn,
      signingRegion: region,
      signingService: service,
      signableHeaders: new Set(signedHeaders),
      unsignableHeaders: new Set(["x-amz-content-sha256"]),
      unhoistableHeaders: new Set(["x-amz-content-sha256"]),
    },
  );
  if (presigned.query?.["X-Amz-Signature"] !== params.get("X-Amz-Signature")) return "mismatch";
  return Date.now() > signingDate.getTime() + expiresIn * 1000 ? "expired" : "valid";
}

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
function listParts(root: string, bucket: string, key: string, query: URLSearchParams): string | null {
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
function checkCompletion(root: string, bucket: string, uploadId: string, xml: string): { status: number; code: string; message: string } | null {
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

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(",") : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface UpstreamReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function forward(upstream: string, req: IncomingMessage, url: URL, body: Buffer): Promise<UpstreamReply> {
  const target = new URL(url.pathname + url.search, upstream);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== "host" && name !== "transfer-encoding" && name !== "connection") headers[name] = value;
  }
  headers["content-length"] = String(body.byteLength);
  return new Promise((done, fail) => {
    const outgoing = httpRequest(target, { method: req.method, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", fail);
      incoming.on("end", () => {
        const replyHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value !== undefined && name !== "transfer-encoding" && name !== "connection") replyHeaders[name] = value;
        }
        done({ status: incoming.statusCode ?? 502, headers: replyHeaders, body: Buffer.concat(chunks) });
      });
    });
    outgoing.on("error", fail);
    outgoing.end(body);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const requestId = createHash("sha1").update(`${Date.now()}${Math.random()}`).digest("hex").slice(0, 16).toUpperCase();
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": requestId });
  res.end(xml);
}

/** s3rver keeps an unfinished multipart upload as a folder `<dir>/<bucket>/._S3rver_uploads/<uploadId>`. */
function uploadDir(root: string, bucket: string, uploadId: string): string {
  return join(root, bucket, "._S3rver_uploads", uploadId);
}

function uploadsOnDisk(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((bucket) => {
    const dir = join(root, bucket, "._S3rver_uploads");
    return existsSync(dir) ? readdirSync(dir) : [];
  });
}
