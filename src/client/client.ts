import type { z } from "zod";
import type { AcceptedUploadSchema, Job, JobList } from "../api/jobs";
import type { ModelSummarySchema } from "../api/summary";
import { ApiError } from "./problem";
import type { CreateUploadRequest, PartTarget, UploadedPart, UploadSession, UploadSessionState } from "./upload-session-types";

export type AcceptedUpload = z.infer<typeof AcceptedUploadSchema>;
export type ModelSummary = z.infer<typeof ModelSummarySchema>;
export type { Job, JobList };
export type JobStatus = Job["status"];

export interface ClientOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  token?: string;
  /** Another fetch (tests hand in the Worker's own). */
  fetch?: (request: Request) => Promise<Response>;
}

/** Request bodies the client streams: a whole Blob, or a stream of known length. */
export type UploadBody = Blob | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;

export interface UploadOptions {
  filename?: string;
  /** Needed for streams: the service refuses a body longer than it said. */
  contentLength?: number;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A typed client of the ingest API; its types are the routes' own schemas (src/api). */
export class IngestClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: (request: Request) => Promise<Response>;

  constructor(options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
  }

  async uploadModel(projectId: string, body: UploadBody, options: UploadOptions = {}): Promise<AcceptedUpload> {
    const query = options.filename === undefined ? "" : `?filename=${encodeURIComponent(options.filename)}`;
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (options.contentLength !== undefined) headers["content-length"] = String(options.contentLength);
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    return this.#json<AcceptedUpload>("POST", `/v1/projects/${enc(projectId)}/models${query}`, { body, headers, signal: options.signal }, 202);
  }

  getJob(jobId: string, signal?: AbortSignal): Promise<Job> {
    return this.#json<Job>("GET", `/v1/jobs/${enc(jobId)}`, { signal });
  }

  getSummary(jobId: string): Promise<ModelSummary> {
    return this.#json<ModelSummary>("GET", `/v1/jobs/${enc(jobId)}/summary`);
  }

  listJobs(projectId: string, query: { status?: JobStatus; limit?: number; cursor?: string } = {}): Promise<JobList> {
    return this.#json<JobList>("GET", `/v1/projects/${enc(projectId)}/jobs${search(query)}`);
  }

  /** Every job of the project, newest first, page after page. */
  async *allJobs(projectId: string, query: { status?: JobStatus; limit?: number } = {}): AsyncGenerator<JobList["items"][number]> {
    let cursor: string | undefined;
    do {
      const page = await this.listJobs(projectId, { ...query, cursor });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  async deleteJob(jobId: string): Promise<void> {
    await this.#send("DELETE", `/v1/jobs/${enc(jobId)}`, {}, 204);
  }

  /** Polls the job until it has succeeded or failed; `onUpdate` sees every state on the way. */
  async waitForJob(jobId: string, options: { intervalMs?: number; onUpdate?: (job: Job) => void; signal?: AbortSignal } = {}): Promise<Job> {
    for (;;) {
      const job = await this.getJob(jobId, options.signal);
      options.onUpdate?.(job);
      if (job.status === "succeeded" || job.status === "failed") return job;
      await sleep(options.intervalMs ?? 1000, options.signal);
    }
  }

  createUpload(projectId: string, request: CreateUploadRequest): Promise<UploadSession> {
    return this.#json<UploadSession>("POST", `/v1/projects/${enc(projectId)}/uploads`, { body: JSON.stringify(request), headers: { "content-type": "application/json" } }, 201);
  }

  getUpload(projectId: string, uploadId: string): Promise<UploadSessionState> {
    return this.#json<UploadSessionState>("GET", `/v1/projects/${enc(projectId)}/uploads/${enc(uploadId)}`);
  }

  partTarget(projectId: string, uploadId: string, partNumber: number): Promise<PartTarget> {
    return this.#json<PartTarget>("GET", `/v1/projects/${enc(projectId)}/uploads/${enc(uploadId)}/parts/${partNumber}`);
  }

  /** Sends one part where its target says; answers the ETag that completing the upload needs. */
  async sendPart(target: PartTarget, body: UploadBody, size: number, signal?: AbortSignal): Promise<string> {
    const url = new URL(target.url, `${this.baseUrl}/`);
    const headers: Record<string, string> = { ...target.headers, "content-length": String(size) };
    // Our own part endpoint takes the token; a presigned storage URL carries its signature instead.
    const ours = url.origin === new URL(this.baseUrl).origin;
    const response = await this.#fetch(request(url.toString(), target.method, headers, ours ? this.#token : undefined, body, signal));
    if (!response.ok) throw await ApiError.from(response);
    const etag = response.headers.get("etag");
    if (etag) {
      await response.body?.cancel();
      return etag;
    }
    const reply = (await response.json()) as Partial<UploadedPart>;
    if (typeof reply.etag !== "string") throw new ApiError(response.status, { type: "about:blank", title: "No ETag", status: response.status, detail: "The part was sent but no ETag came back." });
    return reply.etag;
  }

  completeUpload(projectId: string, uploadId: string, parts: { partNumber: number; etag: string }[], idempotencyKey?: string): Promise<AcceptedUpload & { upload?: { uploadId: string } }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    return this.#json("POST", `/v1/projects/${enc(projectId)}/uploads/${enc(uploadId)}/complete`, { body: JSON.stringify({ parts }), headers }, 202);
  }

  async abortUpload(projectId: string, uploadId: string): Promise<void> {
    await this.#send("DELETE", `/v1/projects/${enc(projectId)}/uploads/${enc(uploadId)}`, {}, 204);
  }

  async #json<T>(method: string, path: string, init: SendInit = {}, expected = 200): Promise<T> {
    const response = await this.#send(method, path, init, expected);
    return (await response.json()) as T;
  }

  async #send(method: string, path: string, init: SendInit, expected: number): Promise<Response> {
    const response = await this.#fetch(request(`${this.baseUrl}${path}`, method, init.headers ?? {}, this.#token, init.body, init.signal));
    if (response.status !== expected) throw await ApiError.from(response);
    return response;
  }
}

interface SendInit {
  body?: UploadBody | string;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

function request(url: string, method: string, headers: Record<string, string>, token: string | undefined, body: UploadBody | string | undefined, signal: AbortSignal | undefined): Request {
  const all = new Headers(headers);
  if (token && !all.has("authorization")) all.set("authorization", `Bearer ${token}`);
  // A stream body needs half-duplex in Node's fetch; it is ignored where not needed.
  const init: RequestInit & { duplex?: "half" } = { method, headers: all, body: body ?? null, signal: signal ?? null };
  if (body instanceof ReadableStream) init.duplex = "half";
  return new Request(url, init);
}

const enc = encodeURIComponent;

function search(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
