// Sign-in state: the token lives in sessionStorage (gone when the tab closes). A token in the
// URL fragment (the link `npm run dev` prints) is moved there and removed from the address
// bar and its history entry; fragments never reach the server or a Referer header.

const TOKEN_KEY = "ifc-console.token";
const PROJECT_KEY = "ifc-console.project";

/**
 * @typedef {{sub?: string, projects?: string[], exp?: number}} Claims
 */

/** @param {string} token @returns {Claims} */
export function decodeClaims(token) {
  const payload = token.split(".")[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}

/** The project to open first: the only one the token grants, if it names exactly one. @param {Claims} claims */
export function defaultProject(claims) {
  const projects = Array.isArray(claims.projects) ? claims.projects.filter((p) => typeof p === "string" && p !== "*") : [];
  return projects.length === 1 ? projects[0] : undefined;
}

/** @returns {{token: string, project: string} | null} */
export function storedSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const project = sessionStorage.getItem(PROJECT_KEY);
  return token && project ? { token, project } : null;
}

/** @param {string} token @param {string} project */
export function storeSession(token, project) {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(PROJECT_KEY, project);
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PROJECT_KEY);
}

/**
 * Takes `token` and `project` out of the fragment; other fragment keys (a job link) stay.
 * @returns {{token?: string, project?: string}}
 */
export function takeFragmentCredentials() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token") ?? undefined;
  const project = params.get("project") ?? undefined;
  if (token === undefined && project === undefined) return {};
  params.delete("token");
  params.delete("project");
  const rest = params.toString();
  history.replaceState(null, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
  return { token, project };
}
