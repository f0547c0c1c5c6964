import { expect } from "vitest";
import type { ProblemBody } from "../../src/lib/problem";

/**
 * The problem types' base URL as the API contract states it (DESIGN.md, README), written here
 * rather than imported, so a change in the service's constant is caught, not followed.
 */
export const PROBLEM_TYPE_BASE = "https://docs.ifc-ingest.example/problems/";

/** An RFC 9457 problem as the service renders it. */
export type Problem = ProblemBody;

/** Stack frames ("at f (file.ts:1:2)"), file positions and error class prefixes a client must never see. */
const INTERNALS = /\bat [^\s"]+ \(|\bat [^\s"]+:\d+:\d+|\.(?:ts|js|mjs):\d+|\b\w*Error: /;

/**
 * Asserts a complete problem+json answer: the status on the response and in the body, the
 * content type, the type URL for `slug`, a title and detail, the request id equal to the
 * x-request-id header, and no stack or internal error text anywhere in the body. Answers the
 * body for further checks of its extensions.
 */
export async function expectProblem<Extensions extends object = Record<never, never>>(
  response: Response,
  status: number,
  slug: string,
): Promise<Problem & Extensions> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = JSON.parse(text) as Problem & Extensions;
  expect(problem.type).toBe(`${PROBLEM_TYPE_BASE}${slug}`);
  expect(problem.status).toBe(status);
  expect(problem.title).toEqual(expect.any(String));
  expect(problem.title).not.toBe("");
  expect(problem.detail).toEqual(expect.any(String));
  expect(problem.instance).toMatch(/^\//);
  const requestId = response.headers.get("x-request-id");
  expect(requestId).toMatch(/\S/);
  expect(problem.requestId).toBe(requestId);
  expect(problem).not.toHaveProperty("stack");
  expect(text).not.toMatch(INTERNALS);
  return problem;
}
