import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ProblemSlug } from "../api/problems";

export const PROBLEM_BASE = "https://docs.ifc-ingest.example/problems/";

export interface ProblemInit {
  status: ContentfulStatusCode;
  /** One of the catalogue in src/api/problems.ts, so every problem type is documented. */
  slug: ProblemSlug;
  title: string;
  detail: string;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/** An error meant for the client: rendered as RFC 9457 problem+json by the app's onError. */
export class ProblemError extends Error {
  readonly status: ContentfulStatusCode;
  readonly slug: ProblemSlug;
  readonly title: string;
  readonly detail: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(init: ProblemInit) {
    super(init.detail);
    this.name = "ProblemError";
    this.status = init.status;
    this.slug = init.slug;
    this.title = init.title;
    this.detail = init.detail;
    this.headers = init.headers ?? {};
    this.extensions = init.extensions ?? {};
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  [extension: string]: unknown;
}

export function problemBody(error: ProblemError, instance: string, requestId: string): ProblemBody {
  return {
    ...error.extensions,
    type: PROBLEM_BASE + error.slug,
    title: error.title,
    status: error.status,
    detail: error.detail,
    instance,
    requestId,
  };
}

export const notFound = (detail: string): ProblemError =>
  new ProblemError({ status: 404, slug: "not-found", title: "Not Found", detail });
