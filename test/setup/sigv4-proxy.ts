// A SigV4-verifying reverse proxy in front of s3rver (which checks only the access key id).
// Every request's signature is recomputed with AWS's own signer (@smithy/signature-v4) and
// a mismatch is answered like S3 does: 403 <Error><Code>SignatureDoesNotMatch</Code>.
// Presigned (query-signed) requests are verified the same way, with the signer's presign, and
// refused once X-Amz-Expires has passed. It also records every request and supplies what
// s3rver 3.7 lacks, as S3 does it: AbortMultipartUpload and ListParts (s3rver answers 405 to
// both) and the ETag, order and size checks of CompleteMultipartUpload (s3rver checks none).
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { type IncomingMessage, request as httpRequest, type Server, type ServerResponse, createServer } from "node:http";
import { checkCompletion, listParts, uploadDir, uploadsOnDisk } from "./s3rver-multipart.ts";
import { header, verifyPresigned, verifySignature } from "./sigv4-verify.ts";
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
