// Uploads this browser started and did not finish (kept in localStorage), to be continued by
// choosing the same file again, or discarded (the session is aborted on the service).
import { projectPath } from "./api.js";
import { byId, h } from "./dom.js";
import { formatBytes } from "./format.js";
import { forget, savedForProject } from "./resume-store.js";

/**
 * @param {import("./api.js").Api} api
 * @param {string} project
 * @param {Set<string>} active fingerprints of files this page is uploading now
 */
export function renderUnfinished(api, project, active) {
  const entries = savedForProject(project).filter((entry) => !active.has(entry.fingerprint));
  byId("pending").hidden = entries.length === 0;
  byId("pending-list").replaceChildren(
    ...entries.map((entry) =>
      h(
        "li",
        {},
        h("strong", { text: entry.name }),
        h("span", { class: "muted", text: ` ${formatBytes(entry.size)}, started ${new Date(entry.savedAt).toLocaleString()} ` }),
        h("button", {
          type: "button",
          "aria-label": `Discard the unfinished upload of ${entry.name}`,
          text: "Discard",
          onclick: async () => {
            forget(project, entry.fingerprint);
            renderUnfinished(api, project, active);
            try {
              await api.json(`${projectPath(project)}/uploads/${encodeURIComponent(entry.uploadId)}`, { method: "DELETE" });
            } catch {
              // expired or already closed: nothing left to abort
            }
          },
        }),
      ),
    ),
  );
}
