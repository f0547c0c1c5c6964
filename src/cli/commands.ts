import type { IngestClient, Job, JobStatus } from "../client";
import { JOB_COLUMNS, formatBytes, jobRow, summaryRows } from "./format";
import type { Terminal } from "./terminal";

export async function listJobs(client: IngestClient, term: Terminal, projectId: string, status: JobStatus | undefined, limit: number): Promise<number> {
  const items: Awaited<ReturnType<IngestClient["listJobs"]>>["items"] = [];
  let nextCursor: string | null = null;
  do {
    const page = await client.listJobs(projectId, { status, limit: Math.min(100, limit - items.length), cursor: nextCursor ?? undefined });
    items.push(...page.items);
    nextCursor = page.nextCursor;
  } while (nextCursor && items.length < limit);
  if (term.json) {
    term.document({ items, nextCursor });
    return 0;
  }
  if (items.length === 0) {
    term.err(`no jobs${status ? ` with status ${status}` : ""} in project ${projectId}`);
    return 0;
  }
  term.out(term.table(JOB_COLUMNS, items.map(jobRow)));
  if (nextCursor) term.err(`more jobs: raise --limit (shown: ${items.length})`);
  return 0;
}

export async function showJob(client: IngestClient, term: Terminal, jobId: string): Promise<number> {
  const job = await client.getJob(jobId);
  if (term.json) {
    term.document(job);
    return job.status === "failed" ? 1 : 0;
  }
  const rows: [string, string][] = [
    ["Job", job.jobId],
    ["Project", job.projectId],
    ["Status", paintStatus(term, job)],
    ["File", `${job.file.name} (${formatBytes(job.file.size)}, ${job.file.schema})`],
    ["SHA-256", job.file.sha256 ?? "(computed while processing)"],
    ["Attempts", String(job.attempts)],
    ["Created", job.createdAt],
    ["Updated", job.updatedAt],
  ];
  if (job.progress) rows.push(["Progress", `${job.progress.phase} ${formatBytes(job.progress.bytesDone)} of ${formatBytes(job.progress.bytesTotal)}`]);
  if (job.error) rows.push(["Error", `${job.error.code}: ${job.error.message}`]);
  for (const n of job.notifications) rows.push([`Notify ${n.channel}`, `${n.event} ${n.status} after ${n.attempts} attempt(s)${n.lastError ? `: ${n.lastError}` : ""}`]);
  term.out(term.table([], rows));
  return job.status === "failed" ? 1 : 0;
}

export async function showSummary(client: IngestClient, term: Terminal, jobId: string): Promise<number> {
  const summary = await client.getSummary(jobId);
  if (term.json) term.document(summary);
  else term.out(term.table([], summaryRows(summary)));
  return 0;
}

export async function deleteJob(client: IngestClient, term: Terminal, jobId: string): Promise<number> {
  await client.deleteJob(jobId);
  if (term.json) term.document({ deleted: jobId });
  else term.err(`deleted job ${jobId} (model, summary and record)`);
  return 0;
}

function paintStatus(term: Terminal, job: Job): string {
  return job.status === "succeeded" ? term.paint(job.status, "good") : job.status === "failed" ? term.paint(job.status, "bad") : job.status;
}
