// SigV4 verification with AWS's own signer (@smithy/signature-v4): header-signed requests and
// presigned (query-signed) URLs, as S3 checks them.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { IncomingMessage } from "node:http";
import type { RecordedRequest } from "../support/s3-peer-info.ts";

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** Recomputes the signature with @smithy/signature-v4 from what the request declares it signed. */
export async function verifySignature(
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
export async function verifyPresigned(req: IncomingMessage, url: URL, credentials: Record<string, string>): Promise<RecordedRequest["signature"]> {
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

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(",") : value;
}
