// The console's entry: sign-in, file picking and dropping, the job list, the job panel.
import { Api, ProblemError } from "./api.js";
import { clearSession, decodeClaims, defaultProject, storedSession, storeSession, takeFragmentCredentials } from "./auth.js";
import { byId, h, typedById } from "./dom.js";
import { watchJob } from "./job-watch.js";
import { JobsView } from "./jobs-view.js";
import { renderUnfinished } from "./pending-view.js";
import { jobView } from "./summary-view.js";
import { Upload } from "./upload.js";
import { UploadCard } from "./upload-view.js";

const PROJECT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** @type {{api: Api, project: string, jobs: JobsView} | null} */
let current = null;
/** @type {Map<string, {upload: Upload, card: UploadCard}>} uploads of this page by file fingerprint */
const uploads = new Map();
/** @type {AbortController | null} */
let panelWatch = null;

const notice = typedById("notice", HTMLParagraphElement);

/** @param {string} text */
function say(text) {
  notice.textContent = text;
  notice.hidden = text === "";
}

/** @param {unknown} error */
function showProblem(error) {
  if (error instanceof ProblemError) say(`${error.title}: ${error.detail}`);
  else if (!(error instanceof DOMException && error.name === "AbortError")) say(error instanceof Error ? error.message : String(error));
}

function boot() {
  const fragment = takeFragmentCredentials();
  if (fragment.token) {
    const project = fragment.project ?? defaultProject(decodeClaims(fragment.token));
    if (project && PROJECT_PATTERN.test(project)) storeSession(fragment.token, project);
    else typedById("token", HTMLInputElement).value = fragment.token;
  }
  typedById("sign-in", HTMLFormElement).addEventListener("submit", (event) => {
    event.preventDefault();
    const token = typedById("token", HTMLInputElement).value.trim();
    const projectField = typedById("project", HTMLInputElement);
    const project = projectField.value.trim() || defaultProject(decodeClaims(token)) || "";
    if (!PROJECT_PATTERN.test(project)) {
      say("Project: letters, digits, _ and - (at most 64).");
      projectField.focus();
      return;
    }
    storeSession(token, project);
    signIn(token, project);
  });
  typedById("token", HTMLInputElement).addEventListener("change", (event) => {
    const projectField = typedById("project", HTMLInputElement);
    const project = defaultProject(decodeClaims(/** @type {HTMLInputElement} */ (event.target).value.trim()));
    if (!projectField.value && project) projectField.value = project;
  });
  typedById("sign-out", HTMLButtonElement).addEventListener("click", () => {
    clearSession();
    location.assign(location.pathname);
  });
  typedById("job-close", HTMLButtonElement).addEventListener("click", () => {
    history.pushState(null, "", `${location.pathname}${location.search}`);
    route();
  });
  wireFilePicking();
  window.addEventListener("hashchange", route);
  const session = storedSession();
  if (session) signIn(session.token, session.project);
  else typedById("token", HTMLInputElement).focus();
}

/** @param {string} token @param {string} project */
function signIn(token, project) {
  current?.jobs.destroy();
  const api = new Api(token, () => {
    clearSession();
    say("The service refused the token (expired or revoked?). Sign out and sign in with a new one.");
  });
  const claims = decodeClaims(token);
  const expires = typeof claims.exp === "number" ? `, until ${new Date(claims.exp * 1000).toLocaleTimeString()}` : "";
  byId("who").textContent = `${claims.sub ?? "signed in"} · project ${project}${expires}`;
  byId("sign-in").hidden = true;
  byId("signed-in").hidden = false;
  byId("upload").hidden = false;
  byId("jobs").hidden = false;
  say("");
  const jobs = new JobsView({ api, project, openJob, showProblem });
  current = { api, project, jobs };
  void jobs.load(undefined);
  renderPending();
  route();
}

function wireFilePicking() {
  const input = typedById("files", HTMLInputElement);
  input.addEventListener("change", () => {
    startUploads(input.files);
    input.value = "";
  });
  const drop = byId("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    startUploads(event.dataTransfer?.files ?? null);
  });
}

/** @param {FileList | null} files */
function startUploads(files) {
  if (!current || !files) return;
  for (const file of Array.from(files)) startUpload(current, file);
}

/** @param {{api: Api, project: string, jobs: JobsView}} context @param {File} file */
function startUpload(context, file) {
  let card = /** @type {UploadCard | null} */ (null);
  let watching = false;
  const upload = new Upload({
    api: context.api,
    project: context.project,
    file,
    onChange: (changed) => {
      card?.update();
      if (changed.phase === "accepted" && changed.jobId && !watching) {
        watching = true;
        followJob(context, changed.jobId, (job) => card?.setJob(job));
      }
      if (changed.phase !== "uploading") renderPending();
    },
  });
  const running = uploads.get(upload.fingerprint);
  if (running && running.upload.phase !== "failed" && running.upload.phase !== "cancelled" && running.upload.phase !== "accepted") {
    say(`${file.name} is already being uploaded.`);
    return;
  }
  // The same file chosen again after it stopped: the new upload takes its session over.
  if (running?.upload.phase === "failed") running.card.element.remove();
  card = new UploadCard(upload, openJob);
  uploads.set(upload.fingerprint, { upload, card });
  byId("uploads").prepend(card.element);
  card.update();
  void upload.start();
}

/**
 * @param {{api: Api, project: string, jobs: JobsView}} context
 * @param {string} jobId
 * @param {(job: any) => void} onUpdate
 */
function followJob(context, jobId, onUpdate) {
  void context.jobs.load(undefined);
  watchJob(context.api, jobId, onUpdate, new AbortController().signal)
    .then(() => context.jobs.load(context.jobs.cursor))
    .catch(showProblem);
}

function renderPending() {
  if (!current) return;
  // Uploads this page shows a card for (with Resume, if stopped) are not listed twice.
  const shown = [...uploads.values()].map(({ upload }) => upload).filter((u) => u.phase !== "cancelled" && (u.phase !== "failed" || u.session !== null));
  const active = new Set(shown.map((u) => u.fingerprint));
  renderUnfinished(current.api, current.project, active);
}

/** @param {string} jobId */
function openJob(jobId) {
  location.hash = `job=${encodeURIComponent(jobId)}`;
}

function route() {
  const jobId = new URLSearchParams(location.hash.slice(1)).get("job");
  panelWatch?.abort();
  panelWatch = null;
  const panel = byId("job");
  if (!current || !jobId) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const title = byId("job-title");
  const body = byId("job-body");
  title.textContent = "Job";
  body.replaceChildren(h("p", { text: "Loading…" }));
  title.focus();
  const controller = new AbortController();
  panelWatch = controller;
  void showJob(current.api, jobId, controller.signal);
}

/** @param {Api} api @param {string} jobId @param {AbortSignal} signal */
async function showJob(api, jobId, signal) {
  const title = byId("job-title");
  const body = byId("job-body");
  try {
    const job = await watchJob(
      api,
      jobId,
      (update) => {
        if (signal.aborted) return;
        title.textContent = `Job: ${update.file?.name ?? jobId}`;
        // The job carries a bounded copy of its summary; the full one follows from /summary.
        body.replaceChildren(jobView(update, update.status === "succeeded" ? (update.summary ?? null) : null));
      },
      signal,
    );
    const summary = job.status === "succeeded" ? await api.json(`/v1/jobs/${encodeURIComponent(jobId)}/summary`, { signal }) : null;
    if (!signal.aborted) body.replaceChildren(jobView(job, summary));
  } catch (error) {
    if (signal.aborted) return;
    body.replaceChildren(
      error instanceof ProblemError
        ? h("div", { class: "problem", role: "alert" }, h("strong", { class: "problem-title", text: error.title }), h("p", { class: "problem-detail", text: error.detail }))
        : h("p", { text: String(error) }),
    );
  }
}

boot();
