// One part's bytes, sent with XMLHttpRequest: fetch() reports no upload progress in browsers.
import { problemFrom } from "./api.js";

/** Headers a page may not set; sending them makes the browser log an error. */
const FORBIDDEN = new Set(["content-length", "host", "connection", "expect", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "origin", "referer", "cookie", "date"]);

export class TransferAborted extends Error {
  constructor() {
    super("aborted");
    this.name = "TransferAborted";
  }
}

/**
 * @param {{url: string, method: string, headers: Record<string, string>, body: Blob, onProgress: (loaded: number) => void}} request
 * @returns {{done: Promise<string>, abort: () => void}} done resolves to the part's ETag
 */
export function sendPart(request) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) {
      if (!FORBIDDEN.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => request.onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(problemFrom(xhr.status, xhr.getResponseHeader("content-type") ?? "", xhr.responseText));
        return;
      }
      // The service's part endpoint answers {partNumber, size, etag}; S3 answers with an ETag
      // header (exposed by the bucket's CORS rule).
      let etag = xhr.getResponseHeader("etag") ?? "";
      if ((xhr.getResponseHeader("content-type") ?? "").includes("json")) {
        try {
          const body = JSON.parse(xhr.responseText);
          if (body && typeof body.etag === "string") etag = body.etag;
        } catch {
          // keep the header's
        }
      }
      if (etag) resolve(etag);
      else reject(problemFrom(xhr.status, "", "The part was stored but no ETag came back (is ETag exposed by the bucket's CORS rule?)"));
    };
    xhr.onerror = () => reject(problemFrom(0, "", ""));
    xhr.onabort = () => reject(new TransferAborted());
    xhr.send(request.body);
  });
  return { done, abort: () => xhr.abort() };
}

/**
 * The headers a part URL asks for; the service's own part endpoint (same origin) also wants
 * the bearer token, which a presigned S3 URL must never get.
 * @param {{url: string, headers?: Record<string, string>}} target
 * @param {string} token
 * @returns {Record<string, string>}
 */
export function partHeaders(target, token) {
  const headers = { ...(target.headers ?? {}) };
  const sameOrigin = new URL(target.url, location.href).origin === location.origin;
  if (sameOrigin && !Object.keys(headers).some((name) => name.toLowerCase() === "authorization")) headers.authorization = `Bearer ${token}`;
  return headers;
}
