import type { KeyClaim, KeyClaimRequest } from "./idempotency-key";
import type { AcceptedUpload, JobRecord, Reservation } from "./record";

/** What the ingest pipeline and routes need from the job objects. */
export interface JobDirectory {
  reserve(jobId: string, projectId: string): Promise<Reservation>;
  release(jobId: string): Promise<void>;
  accept(record: JobRecord, reply: AcceptedUpload): Promise<void>;
  get(jobId: string): Promise<JobRecord | null>;
  forget(jobId: string): Promise<void>;
}

export function durableJobDirectory(namespace: Env["JOBS"], now: () => number = Date.now): JobDirectory {
  const stub = (jobId: string) => namespace.get(namespace.idFromName(jobId));
  return {
    reserve: (jobId, projectId) => stub(jobId).reserve(projectId, now()),
    release: (jobId) => stub(jobId).release(),
    accept: (record, reply) => stub(record.jobId).accept(record, reply),
    get: (jobId) => stub(jobId).record(),
    forget: (jobId) => stub(jobId).forget(),
  };
}

/** An Idempotency-Key's record, in a job object named after the key (see ingest/idempotency.ts). */
export interface IdempotencyKeys {
  claim(name: string, request: KeyClaimRequest): Promise<KeyClaim>;
  renew(name: string, owner: string, now: number, expiresAt: number): Promise<boolean>;
  complete(name: string, owner: string, fingerprint: string, reply: AcceptedUpload, now: number, expiresAt: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export function durableIdempotencyKeys(namespace: Env["JOBS"]): IdempotencyKeys {
  const stub = (name: string) => namespace.get(namespace.idFromName(name));
  return {
    claim: (name, request) => stub(name).claimKey(request),
    renew: (name, owner, now, expiresAt) => stub(name).renewKey(owner, now, expiresAt),
    complete: (name, owner, fingerprint, reply, now, expiresAt) => stub(name).completeKey(owner, fingerprint, reply, now, expiresAt),
    release: (name, owner) => stub(name).releaseKey(owner),
  };
}
