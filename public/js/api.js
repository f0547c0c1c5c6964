// The service's HTTP API, same origin as the page. Errors become ProblemError carrying the
// RFC 9457 problem's title and detail, which the views show as they are.

export class ProblemError extends Error {
  /**
   * @param {{status: number, title: string, detail: string, type?: string, code?: string}} problem
   */
  constructor(problem) {
    super(problem.detail);
    this.name = "ProblemError";
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.type = problem.type ?? "";
    this.code = problem.code ?? "";
  }
}

/**
 * A problem from a response body, whatever the body is: problem+json from the service, or
 * anything else (a proxy's HTML page, an S3 XML error) summarised by its status.
 * @param {number} status
 * @param {string} contentType
 * @param {string} text
 */
export function problemFrom(status, contentType, text) {
  if (contentType.includes("json")) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body === "object" && typeof body.title === "string") {
        return new ProblemError({ status, title: body.title, detail: String(body.detail ?? ""), type: String(body.type ?? "") });
      }
    } catch {
      // not JSON after all: described by its status below
    }
  }
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  return new ProblemError({
    status,
    title: status === 0 ? "Network Error" : `HTTP ${status}`,
    detail: status === 0 ? "The request did not reach the server or its answer was lost." : code ? `The storage answered ${code}.` : text.slice(0, 300),
  });
}

export class Api {
  /**
   * @param {string} token
   * @param {() => void} onUnauthorized called on a 401, so the page can ask for a new token
   */
  constructor(token, onUnauthorized) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  /** @param {Record<string, string>} [extra] */
  headers(extra = {}) {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  /**
   * @param {string} path
   * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [init]
   * @returns {Promise<any>} the parsed JSON body, or null for 204
   */
  async json(path, init = {}) {
    /** @type {RequestInit} */
    const request = { method: init.method ?? "GET", headers: this.headers(init.body === undefined ? {} : { "content-type": "application/json" }) };
    if (init.body !== undefined) request.body = JSON.stringify(init.body);
    if (init.signal) request.signal = init.signal;
    let response;
    try {
      response = await fetch(path, request);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw problemFrom(0, "", "");
    }
    if (response.status === 204) return null;
    const text = await response.text();
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      throw problemFrom(response.status, response.headers.get("content-type") ?? "", text);
    }
    return text === "" ? null : JSON.parse(text);
  }
}

/** @param {string} projectId */
export const projectPath = (projectId) => `/v1/projects/${encodeURIComponent(projectId)}`;
