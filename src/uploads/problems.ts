import { ProblemError } from "../lib/problem";

/** A session that is completed, aborted or expired takes no more parts or completions. */
export function closedProblem(status: string, detail?: string): ProblemError {
  return new ProblemError({
    status: 409,
    slug: "upload-closed",
    title: "Upload Session Closed",
    detail: detail ?? `The upload session is ${status}; create a new one to upload again.`,
    extensions: { uploadStatus: status },
  });
}

export const badPart = (detail: string, extensions: Record<string, unknown> = {}): ProblemError =>
  new ProblemError({ status: 400, slug: "invalid-part", title: "Invalid Part", detail, extensions });
