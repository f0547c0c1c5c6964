import type { Logger } from "../lib/log";
import { ProblemError } from "../lib/problem";
import { CircuitOpenError, DependencyTimeoutError } from "../resilience/errors";
import type { CallOutcome } from "../resilience/breaker";
import type { CircuitClient } from "../circuits/client";
import { type MultipartSessions, type ObjectStorage, StorageError } from "../storage/object-storage";
import { closedProblem } from "./problems";

export type GuardedCall = <T>(operation: string, call: (signal: AbortSignal) => Promise<T>, classify?: (error: unknown) => CallOutcome) => Promise<T>;

/** Only the store's own failures count against the breaker; refusals and broken client bodies do not. */
export const storageFault = (error: unknown): CallOutcome => (error instanceof StorageError && error.retryable ? "failure" : "client-error");

/**
 * Every storage call of an upload session, behind the `storage` breaker with its deadline
 * (the adapters' inline retries spend the storage retry budget), and its failures in the
 * API's words: 503 with Retry-After when the store failed, 409 when it lost the upload.
 */
export function guardedStorage(circuits: CircuitClient, timeoutMs: number, log: Logger): GuardedCall {
  return async (operation, call, classify = storageFault) => {
    try {
      return await circuits.guard("storage", call, { timeoutMs, classify });
    } catch (error) {
      throw storageProblem(error, operation, log);
    }
  };
}

export function storageProblem(error: unknown, operation: string, log: Logger): unknown {
  if (error instanceof ProblemError || error instanceof CircuitOpenError) return error;
  if (error instanceof StorageError && error.code === "no-such-upload") return closedProblem("aborted", "The storage no longer holds this upload.");
  if (error instanceof DependencyTimeoutError || error instanceof StorageError) {
    log.error({ msg: `storage ${operation} failed`, component: "uploads", outcome: "error", error: error.message });
    return new ProblemError({
      status: 503,
      slug: "storage-unavailable",
      title: "Storage Unavailable",
      detail: `Storage could not ${operation} right now; retry later.`,
      headers: { "Retry-After": "5" },
    });
  }
  return error;
}

export function multipartOf(storage: ObjectStorage): MultipartSessions {
  if (!storage.multipart) {
    throw new ProblemError({ status: 501, slug: "not-implemented", title: "Not Implemented", detail: "This storage driver has no upload sessions." });
  }
  return storage.multipart;
}
