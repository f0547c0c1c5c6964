// Builds elements from data without innerHTML, so names from models (material names, file
// names, problem details) can never become markup.

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @param {string} tag
 * @param {Record<string, unknown>} [props] attributes; `on<event>` keys take listeners, `text` sets textContent
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key === "text") {
      element.textContent = String(value);
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === "number" ? String(child) : child);
  }
}

/** @param {string} id */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element;
}

/**
 * @template {Element} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function typedById(id, type) {
  const element = byId(id);
  if (!(element instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return element;
}

/**
 * @param {string[]} headings
 * @param {Child[][]} rows
 * @param {{caption?: string, numeric?: number[]}} [options] numeric: column indexes to right-align
 */
export function table(headings, rows, options = {}) {
  const numeric = new Set(options.numeric ?? []);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      options.caption ? h("caption", { text: options.caption }) : null,
      h("thead", {}, h("tr", {}, headings.map((text, i) => h("th", { scope: "col", class: numeric.has(i) ? "num" : undefined, text })))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) => h("td", { class: numeric.has(i) ? "num" : undefined }, cell))))),
    ),
  );
}
