import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const PROBLEM_BASE = "https://docs.ifc-ingest.example/problems/";

export interface ProblemInit {
  status: ContentfulStatusCode;
  slug: string;
  title: string;
  detail: string;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/**
 * An error meant for the client: rendered as RFC 9457 problem+json by the app's onError. It is
 * an HTTPException, so Hono middleware that inspects errors treats it as a deliberate answer.
 */
export class ProblemError extends HTTPException {
  override readonly status: ContentfulStatusCode;
  readonly slug: string;
  readonly title: string;
  readonly detail: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(init: ProblemInit) {
    super(init.status, { message: init.detail });
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
