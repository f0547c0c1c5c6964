import type { Job, JobList, ModelSummary } from "../client";

/** 1234567 -> "1.2 MB" (decimal units, as download tools show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return "- MB/s";
  return `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
}

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** What the processing spinner says about a job. */
export function describeJob(job: Job): string {
  const progress = job.progress;
  const done = progress && progress.bytesTotal > 0 ? ` ${Math.floor((progress.bytesDone / progress.bytesTotal) * 100)}% (${progress.phase})` : "";
  const attempt = job.attempts > 1 ? `, attempt ${job.attempts}` : "";
  const retry = job.nextAttemptAt ? `, next attempt ${job.nextAttemptAt}` : "";
  return `${job.file.name}: ${job.status}${done}${attempt}${retry}`;
}

/** Rows of the summary table: schema, sizes, storeys, top materials and entity types, validation. */
export function summaryRows(summary: ModelSummary, top = 5): [string, string][] {
  const rows: [string, string][] = [
    ["Schema", summary.schema],
    ["Entities", summary.entityCount.toLocaleString("en-US")],
  ];
  if (summary.project) rows.push(["Project", summary.project.name ?? summary.project.globalId]);
  rows.push(["Storeys", storeysCell(summary)]);
  rows.push(["Top materials", materialsCell(summary, top)]);
  const types = Object.entries(summary.counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, top);
  rows.push(["Top entity types", types.map(([name, count]) => `${name} ${count.toLocaleString("en-US")}`).join(", ")]);
  const v = summary.validation;
  rows.push([
    "Validation",
    v
      ? `${v.errors.length} errors, ${v.warnings.length} warnings, ${Object.keys(v.unknownTypes).length} unknown types, ${v.duplicateIds} duplicate ids, ${v.danglingReferences} dangling references${v.truncated ? " (truncated)" : ""}`
      : "not reported by this engine",
  ]);
  rows.push(["Processed by", `${summary.processor.engine} ${summary.processor.version} in ${formatDuration(summary.processor.durationMs)}`]);
  return rows;
}

/** Storeys listed in the table; a model of 1 500 storeys (a federation of copies) says how many more. */
const STOREYS_LISTED = 8;

function storeysCell(summary: ModelSummary): string {
  const total = summary.truncated?.storeys ?? summary.storeys.length;
  if (total === 0) return "none";
  const named = summary.storeys.slice(0, STOREYS_LISTED).map((s) => (s.elevation === null ? s.name || "(unnamed)" : `${s.name || "(unnamed)"} (${Number(s.elevation.toFixed(3))})`));
  const more = total - named.length;
  return `${total.toLocaleString("en-US")}: ${named.join(", ")}${more > 0 ? `, and ${more.toLocaleString("en-US")} more` : ""}`;
}

/**
 * Materials by name, most associated objects first: a model that repeats a material entity
 * per storey or per linked copy shows it once, with its objects added up and the entities counted.
 */
function materialsCell(summary: ModelSummary, top: number): string {
  const byName = new Map<string, { objects: number; entities: number }>();
  for (const material of summary.materials) {
    const entry = byName.get(material.name) ?? { objects: 0, entities: 0 };
    entry.objects += material.associatedObjects;
    entry.entities += 1;
    byName.set(material.name, entry);
  }
  if (byName.size === 0) return "none";
  const listed = [...byName.entries()].sort(([a, x], [b, y]) => y.objects - x.objects || a.localeCompare(b)).slice(0, top);
  const cell = listed.map(([name, { objects, entities }]) => `${name} (${objects.toLocaleString("en-US")}${entities > 1 ? ` in ${entities} materials` : ""})`).join(", ");
  const partial = summary.truncated !== undefined && summary.truncated.materials > summary.materials.length;
  return partial ? `${cell} (first ${summary.materials.length.toLocaleString("en-US")} of ${summary.truncated?.materials.toLocaleString("en-US")} materials)` : cell;
}

export const JOB_COLUMNS = ["JOB", "STATUS", "FILE", "SIZE", "CREATED"];

export function jobRow(job: JobList["items"][number]): string[] {
  return [job.jobId, job.status, job.file.name, formatBytes(job.file.size), job.createdAt.replace("T", " ").replace(/\.\d+Z$/, "Z")];
}
