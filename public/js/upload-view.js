// One upload's card: bytes and MB/s while sending, then the job's live status, then a button
// to its summary; or the problem's title and detail. Progress updates change text and values
// in place; the buttons are rebuilt only when the phase changes, keeping keyboard focus.
import { h } from "./dom.js";
import { formatBytes, formatRate, percent } from "./format.js";
import { jobStatusView } from "./summary-view.js";

export class UploadCard {
  /**
   * @param {import("./upload.js").Upload} upload
   * @param {(jobId: string) => void} openJob
   */
  constructor(upload, openJob) {
    this.upload = upload;
    this.openJob = openJob;
    /** @type {any} the job's view once the upload was accepted */
    this.job = null;
    const name = upload.file.name;
    this.progress = /** @type {HTMLProgressElement} */ (h("progress", { max: upload.file.size || 1, value: 0, "aria-label": `Upload of ${name}` }));
    this.text = h("p", { class: "upload-text", "aria-live": "polite" });
    this.status = h("div", { class: "job-slot" });
    this.problem = h("div", { class: "problem", role: "alert", hidden: true });
    this.actions = h("div", { class: "actions" });
    this.actionsKey = "";
    this.element = h(
      "li",
      { class: "upload" },
      h("div", { class: "file-name" }, h("strong", { text: name }), h("span", { class: "muted", text: ` ${formatBytes(upload.file.size)}` })),
      this.progress,
      this.text,
      this.status,
      this.problem,
      this.actions,
    );
  }

  /** @param {any} job */
  setJob(job) {
    this.job = job;
    this.update();
  }

  update() {
    const upload = this.upload;
    this.progress.value = upload.bytesDone;
    this.text.textContent = uploadText(upload);
    // Once the bytes are in (or refused outright), the upload's bar has nothing more to say.
    this.progress.hidden = upload.phase === "accepted" || upload.phase === "cancelled" || (upload.phase === "failed" && !upload.session);
    if (this.job) this.status.replaceChildren(jobStatusView(this.job));
    const failedJob = this.job?.status === "failed" ? this.job : null;
    if (upload.problem) {
      this.problem.replaceChildren(h("strong", { class: "problem-title", text: upload.problem.title }), h("p", { class: "problem-detail", text: upload.problem.detail }));
      this.problem.hidden = false;
    } else if (failedJob) {
      this.problem.replaceChildren(
        h("strong", { class: "problem-title", text: `Processing failed: ${failedJob.error?.code ?? "unknown"}` }),
        h("p", { class: "problem-detail", text: failedJob.error?.message ?? "" }),
      );
      this.problem.hidden = false;
    } else {
      this.problem.hidden = true;
    }
    const key = `${upload.phase}:${Boolean(upload.session)}:${this.job?.status ?? ""}`;
    if (key !== this.actionsKey) {
      this.actionsKey = key;
      const focused = this.actions.contains(document.activeElement) ? document.activeElement?.getAttribute("data-action") : null;
      this.actions.replaceChildren(...this.buttons());
      const again = focused ? this.actions.querySelector(`[data-action="${focused}"]`) : null;
      const fallback = this.actions.querySelector("button");
      if (focused) /** @type {HTMLElement | null} */ (again ?? fallback)?.focus();
    }
  }

  buttons() {
    const upload = this.upload;
    const name = upload.file.name;
    /** @param {string} action @param {string} label @param {() => void} run */
    const button = (action, label, run) => h("button", { type: "button", "data-action": action, "aria-label": `${label} ${name}`, onclick: run, text: label });
    const list = [];
    const stoppedWithSession = upload.phase === "failed" && upload.session !== null;
    if (upload.phase === "uploading") list.push(button("pause", "Pause", () => upload.pause()));
    if (upload.phase === "paused" || stoppedWithSession) list.push(button("resume", "Resume", () => upload.resume()));
    if (upload.phase === "starting" || upload.phase === "uploading" || upload.phase === "paused" || stoppedWithSession) {
      list.push(button("cancel", "Cancel", () => void upload.cancel()));
    }
    const jobId = upload.jobId;
    if (jobId && (this.job?.status === "succeeded" || this.job?.status === "failed")) {
      const open = button("open", "Open summary", () => this.openJob(jobId));
      open.setAttribute("aria-label", `Open the summary of ${name}`);
      open.classList.add("primary");
      list.push(open);
    }
    return list;
  }
}

/** @param {import("./upload.js").Upload} upload */
function uploadText(upload) {
  const total = upload.file.size;
  const sent = `${formatBytes(upload.bytesDone)} of ${formatBytes(total)} (${percent(upload.bytesDone, total)} %)`;
  const resumed = upload.resumedBytes > 0 ? ` · resumed at ${formatBytes(upload.resumedBytes)}` : "";
  switch (upload.phase) {
    case "starting":
      return "Starting…";
    case "uploading":
      return `Uploading ${sent} · ${formatRate(upload.rate)}${resumed}`;
    case "paused":
      return `Paused at ${sent}`;
    case "completing":
      return `Uploaded ${formatBytes(total)}; checking the model…`;
    case "accepted":
      return `Uploaded ${formatBytes(total)}${resumed}`;
    case "failed":
      return upload.session ? `Stopped at ${sent}` : "Not accepted";
    case "cancelled":
      return "Cancelled";
  }
}
