// Links a local file to its upload session: creates one (and remembers it under the file's
// fingerprint), or finds what became of the one remembered: still open, with the parts it
// lists; completed, with its job; or gone (expired, aborted, unknown), then forgotten.
import { ProblemError, projectPath } from "./api.js";
import { planParts } from "./parts.js";
import { findSaved, forget, save } from "./resume-store.js";

/**
 * @typedef {{uploadId: string, size: number, partSize: number, partCount: number}} Session
 * @typedef {{kind: "open", session: Session, plan: ReturnType<typeof planParts>} | {kind: "accepted", jobId: string} | {kind: "none"}} SavedState
 */

/**
 * @param {import("./api.js").Api} api @param {string} project @param {File} file @param {string} print
 * @returns {Promise<Session>}
 */
export async function createSession(api, project, file, print) {
  const created = await api.json(`${projectPath(project)}/uploads`, { method: "POST", body: { filename: file.name, size: file.size } });
  save({ project, fingerprint: print, uploadId: created.uploadId, name: file.name, size: file.size, partSize: created.partSize, savedAt: Date.now() });
  return { uploadId: created.uploadId, size: created.size, partSize: created.partSize, partCount: created.partCount };
}

/**
 * @param {import("./api.js").Api} api @param {string} project @param {string} print @param {number} size
 * @returns {Promise<SavedState>}
 */
export async function readSavedSession(api, project, print, size) {
  const saved = findSaved(project, print);
  if (!saved) return { kind: "none" };
  let listing;
  try {
    listing = await api.json(`${projectPath(project)}/uploads/${encodeURIComponent(saved.uploadId)}`);
  } catch (error) {
    // Unknown or closed sessions are forgotten; an expired token or a busy service is not a reason to.
    if (error instanceof ProblemError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429) {
      forget(project, print);
      return { kind: "none" };
    }
    throw error;
  }
  if (listing.status === "completed" && typeof listing.jobId === "string") {
    forget(project, print);
    return { kind: "accepted", jobId: listing.jobId };
  }
  if (listing.status !== "open" || listing.size !== size) {
    forget(project, print);
    return { kind: "none" };
  }
  const session = { uploadId: saved.uploadId, size: listing.size, partSize: listing.partSize, partCount: listing.partCount };
  return { kind: "open", session, plan: planParts(session, Array.isArray(listing.parts) ? listing.parts : []) };
}
