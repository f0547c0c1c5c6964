// The project's jobs, newest first, a page at a time (cursor pagination), each opening its summary.
import { projectPath } from "./api.js";
import { h, typedById } from "./dom.js";
import { formatBytes, formatTime } from "./format.js";

const PAGE_SIZE = 10;
/** While a listed job is queued or processing, the page is read again this often. */
const LIVE_REFRESH_MS = 3000;

export class JobsView {
  /**
   * @param {{api: import("./api.js").Api, project: string, openJob: (jobId: string) => void, showProblem: (error: unknown) => void}} options
   */
  constructor(options) {
    this.options = options;
    this.body = /** @type {HTMLTableSectionElement} */ (typedById("jobs-table", HTMLTableElement).tBodies[0]);
    this.empty = typedById("jobs-empty", HTMLParagraphElement);
    this.first = typedById("jobs-first", HTMLButtonElement);
    this.next = typedById("jobs-next", HTMLButtonElement);
    this.filter = typedById("status-filter", HTMLSelectElement);
    /** @type {string | undefined} cursor of the page shown */
    this.cursor = undefined;
    /** @type {string | null} */
    this.nextCursor = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.refresh = undefined;
    this.controller = new AbortController();
    const signal = this.controller.signal;
    this.first.addEventListener("click", () => void this.load(undefined), { signal });
    this.next.addEventListener("click", () => this.nextCursor && void this.load(this.nextCursor), { signal });
    this.filter.addEventListener("change", () => void this.load(undefined), { signal });
    typedById("jobs-refresh", HTMLButtonElement).addEventListener("click", () => void this.load(this.cursor), { signal });
  }

  destroy() {
    this.controller.abort();
    clearTimeout(this.refresh);
  }

  /** @param {string | undefined} cursor */
  async load(cursor) {
    clearTimeout(this.refresh);
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (this.filter.value) query.set("status", this.filter.value);
    if (cursor) query.set("cursor", cursor);
    let page;
    try {
      page = await this.options.api.json(`${projectPath(this.options.project)}/jobs?${query}`);
    } catch (error) {
      this.options.showProblem(error);
      return;
    }
    this.cursor = cursor;
    this.nextCursor = typeof page?.nextCursor === "string" ? page.nextCursor : null;
    const items = Array.isArray(page?.items) ? page.items : [];
    // A live refresh must not take keyboard focus away from the row's button.
    const focused = this.body.contains(document.activeElement) ? document.activeElement?.closest("tr")?.getAttribute("data-job-id") : null;
    this.body.replaceChildren(...items.map((/** @type {any} */ job) => this.row(job)));
    if (focused) /** @type {HTMLElement | null} */ (this.body.querySelector(`tr[data-job-id="${CSS.escape(focused)}"] button`))?.focus();
    this.empty.hidden = items.length > 0;
    this.first.disabled = cursor === undefined;
    this.next.disabled = this.nextCursor === null;
    if (!this.controller.signal.aborted && items.some((/** @type {any} */ job) => job.status === "queued" || job.status === "processing")) {
      this.refresh = setTimeout(() => void this.load(this.cursor), LIVE_REFRESH_MS);
    }
  }

  /** @param {any} job */
  row(job) {
    const name = job.file?.name ?? job.jobId;
    return h(
      "tr",
      { "data-job-id": job.jobId },
      h("td", { class: "name", text: name }),
      h("td", {}, h("span", { class: `badge ${job.status}`, text: job.status })),
      h("td", { class: "num", text: typeof job.file?.size === "number" ? formatBytes(job.file.size) : "" }),
      h("td", {}, h("time", { datetime: job.createdAt, text: formatTime(job.createdAt) })),
      h("td", {}, h("button", { type: "button", onclick: () => this.options.openJob(job.jobId), "aria-label": `Open ${name}`, text: "Open" })),
    );
  }
}
