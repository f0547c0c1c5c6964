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
