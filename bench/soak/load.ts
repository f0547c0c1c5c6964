// The soak's clients: each uploads the model back to back (directly, or every n-th time
// through an upload session) and follows its job to the end before the next upload, so the
// load is sustained but never builds a backlog the runtime would have to hold.

export interface LoadOptions {
  url: string;
  /** The current bearer token (development tokens last an hour: the bench renews it). */
  token: () => string;
  projectId: string;
  model: Blob;
  filename: string;
  concurrency: number;
  /** Wall-clock end of the load (ms since epoch). */
  until: number;
  /** Every n-th upload of a client goes through an upload session; 0: none. */
  sessionEvery: number;
  /** Longest wait for one job to finish before it is counted as unfinished. */
  jobTimeoutMs: number;
  /** "ingest": the service with processing; "floor": a bare Worker's /r2 (no jobs). */
  target: "ingest" | "floor";
}

export interface LoadCounters {
  uploads: number;
  sessionUploads: number;
  refused: Record<string, number>;
  succeeded: number;
  failed: Record<string, number>;
  unfinished: string[];
  jobIds: string[];
  uploadMs: number[];
  jobMs: number[];
}

export const newCounters = (): LoadCounters => ({
  uploads: 0,
  sessionUploads: 0,
  refused: {},
  succeeded: 0,
  failed: {},
  unfinished: [],
  jobIds: [],
  uploadMs: [],
  jobMs: [],
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Runs the clients until `until`; counters are updated live for the progress lines. */
export async function runLoad(options: LoadOptions, counters: LoadCounters): Promise<void> {
  await Promise.all(Array.from({ length: options.concurrency }, () => client(options, counters)));
}

async function client(options: LoadOptions, counters: LoadCounters): Promise<void> {
  for (let n = 1; Date.now() < options.until; n++) {
    const auth = { authorization: `Bearer ${options.token()}` };
    const started = Date.now();
    const viaSession = options.target === "ingest" && options.sessionEvery > 0 && n % options.sessionEvery === 0;
    let outcome: { status: number; jobId?: string };
    try {
      outcome =
        options.target === "floor"
          ? await post(`${options.url}/r2`, options.model, auth)
          : viaSession
            ? await sessionUpload(options, auth)
            : await post(`${options.url}/v1/projects/${options.projectId}/models?filename=${options.filename}`, options.model, auth);
    } catch (error) {
      outcome = { status: 0 };
      console.log(`upload failed: ${String(error)}`);
    }
    if (outcome.status !== 202) {
      counters.refused[String(outcome.status)] = (counters.refused[String(outcome.status)] ?? 0) + 1;
      await sleep(1000);
      continue;
    }
    counters.uploads += 1;
    if (viaSession) counters.sessionUploads += 1;
    counters.uploadMs.push(Date.now() - started);
    if (options.target === "floor" || outcome.jobId === undefined) continue;
    counters.jobIds.push(outcome.jobId);
    await followJob(options, auth, outcome.jobId, counters, started);
  }
}

async function post(url: string, body: Blob, headers: Record<string, string>): Promise<{ status: number; jobId?: string }> {
  const response = await fetch(url, { method: "POST", body, headers: { ...headers, "content-type": "application/octet-stream" } });
  const text = await response.text();
  if (response.status !== 202) return { status: response.status };
  const parsed = JSON.parse(text) as { jobId?: string };
  return { status: 202, ...(parsed.jobId ? { jobId: parsed.jobId } : {}) };
}

/**
 * Create, ask each part's URL and PUT the part there (the service's part endpoint, or a
 * presigned S3 URL), complete with the parts' ETags: the same job as a direct upload.
 */
async function sessionUpload(options: LoadOptions, auth: Record<string, string>): Promise<{ status: number; jobId?: string }> {
  const base = `${options.url}/v1/projects/${options.projectId}/uploads`;
  const json = { ...auth, "content-type": "application/json" };
  const created = await fetch(base, { method: "POST", headers: json, body: JSON.stringify({ filename: options.filename, size: options.model.size }) });
  if (created.status !== 201) {
    await created.body?.cancel();
    return { status: created.status };
  }
  const session = (await created.json()) as { uploadId: string; partSize: number; partCount: number };
  const parts: { partNumber: number; etag: string }[] = [];
  for (let partNumber = 1; partNumber <= session.partCount; partNumber++) {
    const target = await fetch(`${base}/${session.uploadId}/parts/${partNumber}`, { headers: auth });
    if (!target.ok) {
      await target.body?.cancel();
      return { status: target.status };
    }
    const { url, headers } = (await target.json()) as { url: string; headers: Record<string, string> };
    const from = (partNumber - 1) * session.partSize;
    const put = await fetch(url, { method: "PUT", headers, body: options.model.slice(from, Math.min(options.model.size, from + session.partSize)) });
    const etag = put.headers.get("etag");
    await put.body?.cancel();
    if (!put.ok || etag === null) return { status: put.status };
    parts.push({ partNumber, etag });
  }
  const completed = await fetch(`${base}/${session.uploadId}/complete`, { method: "POST", headers: json, body: JSON.stringify({ parts }) });
  const text = await completed.text();
  if (completed.status !== 202) return { status: completed.status };
  const parsed = JSON.parse(text) as { jobId?: string };
  return { status: 202, ...(parsed.jobId ? { jobId: parsed.jobId } : {}) };
}

async function followJob(options: LoadOptions, auth: Record<string, string>, jobId: string, counters: LoadCounters, started: number): Promise<void> {
  const deadline = Date.now() + options.jobTimeoutMs;
  for (let wait = 100; Date.now() < deadline; wait = Math.min(1000, wait * 1.5)) {
    await sleep(wait);
    try {
      const response = await fetch(`${options.url}/v1/jobs/${jobId}`, { headers: auth });
      const job = (await response.json()) as { status?: string; error?: { code?: string } };
      if (job.status === "succeeded") {
        counters.succeeded += 1;
        counters.jobMs.push(Date.now() - started);
        return;
      }
      if (job.status === "failed") {
        const code = job.error?.code ?? "?";
        counters.failed[code] = (counters.failed[code] ?? 0) + 1;
        return;
      }
    } catch {
      // the next poll tries again
    }
  }
  counters.unfinished.push(jobId);
}
