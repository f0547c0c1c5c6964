// Which upload session belongs to which local file, kept in localStorage so a reload (or a
// crashed tab) can continue: the same file picked again resumes from the session's listed
// parts. Browsers cannot reopen a file by themselves after a reload, so the person picks it.

const KEY = "ifc-console.uploads";
/** Sessions expire after 24 h on the service; older entries are of no use. */
const MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * @typedef {{project: string, fingerprint: string, uploadId: string, name: string, size: number, partSize: number, savedAt: number}} SavedUpload
 */

/** Name, size and modification time: cheap to compute for a file of several GB, unlike a hash. @param {File} file */
export function fingerprint(file) {
  return `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
}

/** @returns {Record<string, SavedUpload>} */
function readAll() {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

/** @param {Record<string, SavedUpload>} all */
function writeAll(all) {
  localStorage.setItem(KEY, JSON.stringify(all));
}

/** @param {string} project @param {string} print */
const keyOf = (project, print) => `${project}\u0000${print}`;

/** @param {string} project @param {string} print @returns {SavedUpload | undefined} */
export function findSaved(project, print) {
  const saved = readAll()[keyOf(project, print)];
  return saved && Date.now() - saved.savedAt < MAX_AGE_MS ? saved : undefined;
}

/** @param {SavedUpload} entry */
export function save(entry) {
  const all = readAll();
  all[keyOf(entry.project, entry.fingerprint)] = entry;
  writeAll(all);
}

/** @param {string} project @param {string} print */
export function forget(project, print) {
  const all = readAll();
  delete all[keyOf(project, print)];
  writeAll(all);
}

/** Unfinished uploads of a project, newest first; expired ones are dropped. @param {string} project */
export function savedForProject(project) {
  const all = readAll();
  const now = Date.now();
  let pruned = false;
  for (const [key, entry] of Object.entries(all)) {
    if (now - entry.savedAt >= MAX_AGE_MS) {
      delete all[key];
      pruned = true;
    }
  }
  if (pruned) writeAll(all);
  return Object.values(all)
    .filter((entry) => entry.project === project)
    .sort((a, b) => b.savedAt - a.savedAt);
}
