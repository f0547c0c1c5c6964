/** The RFC 9457 body every error reply of the service carries. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** A reply other than the documented success: the service's problem, or what stood in for it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail);
    this.name = "ApiError";
  }

  /** The last segment of the problem type, e.g. "not-found". */
  get slug(): string {
    return this.problem.type.slice(this.problem.type.lastIndexOf("/") + 1);
  }

  static async from(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => "");
    try {
      const body = JSON.parse(text) as Partial<Problem>;
      if (typeof body.detail === "string" && typeof body.type === "string") {
        return new ApiError(response.status, { ...body, type: body.type, title: body.title ?? response.statusText, status: response.status, detail: body.detail });
      }
    } catch {
      // not JSON: a proxy or the platform answered
    }
    return new ApiError(response.status, {
      type: "about:blank",
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      detail: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
    });
  }
}
