import { stat } from "node:fs/promises";
import { openAsBlob } from "node:fs";
import { basename, resolve } from "node:path";
import yoctoSpinner from "yocto-spinner";
import { type AcceptedUpload, ApiError, type IngestClient, type Job } from "../client";
import { describeJob, formatBytes, formatRate, summaryRows } from "./format";
import { counted, UploadProgress } from "./progress";
import { uploadInSession } from "./session-upload";
import type { Terminal } from "./terminal";
import { type LocalFile, SessionStore } from "./upload-state";

export interface UploadCommand {
  files: string[];
  projectId: string;
  wait: boolean;
  parallel: number;
  /** Files larger than this go through an upload session. */
  sessionAbove: number;
  cacheDir: string;
}

/** Uploads every file, then (with --wait) follows each job to its end. Answers the exit code. */
export async function upload(client: IngestClient, term: Terminal, command: UploadCommand): Promise<number> {
  const files: LocalFile[] = [];
  for (const path of command.files) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      term.err(`error: ${path} is not a readable file`);
      return 2;
    }
    files.push({ path: resolve(path), name: basename(path), size: info.size, mtimeMs: info.mtimeMs });
  }
  const store = new SessionStore(command.cacheDir);
  const progress = new UploadProgress(term);
  const accepted: AcceptedUpload[] = [];
  try {
    for (const file of files) {
      const started = Date.now();
      let sentBytes = 0;
      if (file.size > command.sessionAbove) {
        const result = await uploadInSession(client, file, {
          projectId: command.projectId,
          parallel: command.parallel,
          store,
          log: (line) => term.err(line),
          onStart: ({ resumedBytes }) => {
            const bar = progress.file(file.name, file.size, resumedBytes);
            return { ...bar, add: (bytes) => { sentBytes += bytes; bar.add(bytes); }, takeBack: (bytes) => { sentBytes -= bytes; bar.takeBack(bytes); } };
          },
        });
        accepted.push(result.accepted);
        if (!term.interactive) term.err(`${file.name}: sent ${result.partsSent} parts, ${result.partsResumed} were already there (upload ${result.uploadId})`);
      } else {
        const bar = progress.file(file.name, file.size);
        const body = counted((await openAsBlob(file.path)).stream(), (bytes) => {
          sentBytes += bytes;
          bar.add(bytes);
        });
        accepted.push(await client.uploadModel(command.projectId, body, { filename: file.name, contentLength: file.size }));
      }
      const reply = accepted.at(-1);
      if (!term.interactive && reply) term.err(`${file.name}: uploaded ${formatBytes(sentBytes)} at ${formatRate(sentBytes, Date.now() - started)}, job ${reply.jobId}`);
    }
  } finally {
    progress.stop();
  }

  if (!command.wait) {
    if (term.json) term.document(accepted.length === 1 ? accepted[0] : accepted);
    else for (const reply of accepted) term.out(`${reply.file.name}\t${reply.jobId}\t${reply.status}`);
    return 0;
  }

  const jobs: Job[] = [];
  for (const reply of accepted) jobs.push(await follow(client, term, reply));
  if (term.json) term.document(jobs.length === 1 ? jobs[0] : jobs);
  else for (const job of jobs) report(term, job);
  return jobs.every((job) => job.status === "succeeded") ? 0 : 1;
}

/** Waits for the job with a spinner that shows its processing progress. */
async function follow(client: IngestClient, term: Terminal, reply: AcceptedUpload): Promise<Job> {
  const spinner = term.interactive ? yoctoSpinner({ text: `${reply.file.name}: queued`, stream: process.stderr }).start() : undefined;
  try {
    const ended = await client.waitForJob(reply.jobId, { intervalMs: 1000, onUpdate: (update) => spinner && (spinner.text = describeJob(update)) });
    // The job keeps a bounded copy of a large model's summary; the table and --json get all of it.
    const job = ended.summary?.truncated ? { ...ended, summary: await client.getSummary(ended.jobId) } : ended;
    if (job.status === "succeeded") spinner?.success(`${job.file.name}: succeeded (job ${job.jobId})`);
    else spinner?.error(`${job.file.name}: failed (job ${job.jobId})`);
    return job;
  } catch (error) {
    spinner?.error(`${reply.file.name}: ${error instanceof ApiError ? error.problem.detail : String(error)}`);
    throw error;
  }
}

function report(term: Terminal, job: Job): void {
  if (job.status !== "succeeded" || !job.summary) {
    term.err(`${job.file.name}: ${term.paint("failed", "bad")} (${job.error?.code ?? "unknown"}): ${job.error?.message ?? "no reason given"}`);
    return;
  }
  term.out(`${job.file.name} (${formatBytes(job.file.size)}, job ${job.jobId}): ${term.paint("succeeded", "good")}`);
  term.out(term.table([], summaryRows(job.summary)));
}
