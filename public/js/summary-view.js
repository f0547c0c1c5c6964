// A job and its summary: file and processing facts, the model's header, storeys, materials,
// the most frequent entity types and the validation report; or why the job failed.
import { barChart, topEntityTypes } from "./chart.js";
import { h, table } from "./dom.js";
import { formatBytes, formatCount, formatElevation, formatTime } from "./format.js";
import { jobProgress } from "./job-watch.js";
import { materialsTable } from "./materials-table.js";

const TOP_TYPES = 12;

/** @param {[string, unknown][]} pairs */
function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== "").flatMap(([label, value]) => [h("dt", { text: label }), h("dd", {}, /** @type {Node | string} */ (value instanceof Node ? value : String(value)))]),
  );
}

/** @param {any} job */
export function jobStatusView(job) {
  const { text, fraction } = jobProgress(job);
  return h(
    "div",
    { class: "job-status" },
    h("span", { class: `badge ${job.status}`, text: job.status }),
    job.status === "processing" || job.status === "queued"
      ? h("progress", { max: 1, value: fraction ?? undefined, "aria-label": `Processing ${job.file?.name ?? ""}` })
      : null,
    text ? h("span", { class: "status-text", text }) : null,
  );
}

/** @param {any} job @param {any} summary summary, once the job succeeded */
export function jobView(job, summary) {
  return h(
    "div",
    { class: "job-view" },
    jobStatusView(job),
    job.status === "failed" ? failure(job.error) : null,
    facts([
      ["File", job.file?.name],
      ["Size", typeof job.file?.size === "number" ? formatBytes(job.file.size) : undefined],
      ["Schema", summary?.schema ?? job.file?.schema],
      ["Entities", typeof summary?.entityCount === "number" ? formatCount(summary.entityCount) : undefined],
      ["SHA-256", job.file?.sha256 ? h("code", { class: "hash", text: job.file.sha256 }) : undefined],
      ["Processor", summary?.processor ? `${summary.processor.engine} ${summary.processor.version ?? ""} · ${formatCount(summary.processor.durationMs)} ms` : undefined],
      ["Attempts", job.attempts],
      ["Created", formatTime(job.createdAt)],
      ["Updated", formatTime(job.updatedAt)],
      ["Job id", h("code", { text: job.jobId })],
    ]),
    summary ? summaryView(summary) : null,
    notifications(job.notifications),
  );
}

/** @param {{code?: string, message?: string} | undefined} error */
function failure(error) {
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("strong", { text: `Processing failed${error?.code ? `: ${error.code}` : ""}` }),
    h("p", { text: error?.message ?? "No reason was recorded." }),
  );
}

/** @param {any} summary */
function summaryView(summary) {
  const header = summary.header ?? {};
  const storeys = Array.isArray(summary.storeys) ? summary.storeys : [];
  const materials = Array.isArray(summary.materials) ? summary.materials : [];
  const top = topEntityTypes(summary.counts ?? {}, TOP_TYPES);
  return h(
    "div",
    { class: "summary" },
    h("h3", { text: "Model" }),
    facts([
      ["Project", summary.project ? `${summary.project.name ?? "(unnamed)"} (${summary.project.globalId})` : "none"],
      ["File name in header", header.fileName],
      ["Exported", header.timeStamp],
      ["Originating system", header.originatingSystem],
      ["Preprocessor", header.preprocessorVersion],
      ["Description", Array.isArray(header.description) ? header.description.join("; ") : undefined],
    ]),
    h("h3", { text: `Storeys (${storeys.length})` }),
    storeys.length
      ? table(
          ["Name", "Elevation", "GlobalId"],
          storeys.map((/** @type {any} */ s) => [h("span", { class: "name", text: s.name }), formatElevation(s.elevation), h("code", { text: s.globalId })]),
          { numeric: [1] },
        )
      : h("p", { text: "No storeys." }),
    h("h3", { text: `Materials (${formatCount(summary.truncated?.materials ?? materials.length)})` }),
    summary.truncated ? h("p", { class: "muted", text: `The first ${formatCount(materials.length)} materials and ${formatCount(storeys.length)} storeys are shown; summary.json beside the model holds all.` }) : null,
    materials.length ? materialsTable(materials) : h("p", { text: "No materials." }),
    h("h3", { text: `Most frequent entity types (of ${Object.keys(summary.counts ?? {}).length})` }),
    top.length ? barChart(top, `The ${top.length} most frequent entity types`) : h("p", { text: "No entities." }),
    validationView(summary.validation),
  );
}

/** @param {any} validation */
function validationView(validation) {
  const title = h("h3", { text: "Validation" });
  if (!validation) return h("div", { class: "validation" }, title, h("p", { text: "This engine made no validation report." }));
  const errors = Array.isArray(validation.errors) ? validation.errors : [];
  const warnings = Array.isArray(validation.warnings) ? validation.warnings : [];
  const unknown = Object.entries(validation.unknownTypes ?? {});
  /** @param {any[]} entries @param {string} caption */
  const issues = (entries, caption) =>
    entries.length ? table(["Line", "Code", "Message"], entries.map((e) => [String(e.line ?? ""), h("code", { text: e.code ?? "" }), String(e.message ?? "")]), { caption, numeric: [0] }) : null;
  const clean = !errors.length && !warnings.length && !unknown.length && !validation.duplicateIds && !validation.danglingReferences;
  return h(
    "div",
    { class: "validation" },
    title,
    h(
      "ul",
      { class: "totals" },
      h("li", { class: errors.length ? "bad" : "good", text: `${formatCount(validation.errorCount ?? errors.length)} errors` }),
      h("li", { class: warnings.length ? "warn" : "good", text: `${formatCount(validation.warningCount ?? warnings.length)} warnings` }),
      h("li", { text: `${formatCount(unknown.length)} unknown types` }),
      h("li", { text: `${formatCount(validation.duplicateIds ?? 0)} duplicate ids` }),
      h("li", { text: `${formatCount(validation.danglingReferences ?? 0)} dangling references` }),
    ),
    clean ? h("p", { text: "No problems found." }) : null,
    validation.schemaTable !== undefined
      ? h("p", { class: "muted", text: validation.schemaTable ? `Entity types checked against the ${validation.schemaTable} schema.` : "No schema table for this schema: entity types were not checked." })
      : null,
    validation.truncated ? h("p", { text: "Only the first entries of each list are shown; the totals count all." }) : null,
    issues(errors, "Errors"),
    issues(warnings, "Warnings"),
    unknown.length ? table(["Type", "Instances"], unknown.map(([type, n]) => [type, formatCount(Number(n))]), { caption: "Types the schema does not define", numeric: [1] }) : null,
  );
}

/** @param {any[] | undefined} list */
function notifications(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h(
    "div",
    {},
    h("h3", { text: "Notifications" }),
    table(
      ["Channel", "Event", "Status", "Attempts", "Last error"],
      list.map((n) => [n.channel, n.event, n.status, String(n.attempts ?? 0), n.lastError ?? ""]),
      { numeric: [3] },
    ),
  );
}
