// The materials table: sortable by any column (buttons in the headers, aria-sort on them),
// long lists shown a page at a time so a model with 50 000 materials stays responsive.
import { h } from "./dom.js";
import { formatCount } from "./format.js";

const PAGE = 200;

/**
 * @typedef {{expressId: number, name: string, associatedObjects: number}} Material
 * @typedef {"name" | "associatedObjects" | "expressId"} Column
 */

/**
 * @param {Material[]} materials
 * @param {Column} column
 * @param {"ascending" | "descending"} direction
 * @returns {Material[]}
 */
export function sortMaterials(materials, column, direction) {
  const sign = direction === "ascending" ? 1 : -1;
  return [...materials].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    const order = typeof x === "string" && typeof y === "string" ? x.localeCompare(y) : Number(x) - Number(y);
    return sign * order || a.expressId - b.expressId;
  });
}

/** @param {Material[]} materials */
export function materialsTable(materials) {
  /** @type {{column: Column, direction: "ascending" | "descending", shown: number}} */
  const state = { column: "associatedObjects", direction: "descending", shown: PAGE };
  /** @type {[Column, string, boolean][]} */
  const columns = [
    ["name", "Material", false],
    ["associatedObjects", "Associated objects", true],
    ["expressId", "Express id", true],
  ];
  const body = h("tbody");
  const headers = columns.map(([column, label, numeric]) =>
    h(
      "th",
      { scope: "col", class: numeric ? "num" : undefined },
      h("button", { type: "button", class: "sort", "data-column": column, onclick: () => sortBy(column) }, label),
    ),
  );
  const more = h("button", { type: "button", onclick: () => ((state.shown += PAGE), render()) });
  const wrapper = h(
    "div",
    { class: "materials" },
    h("div", { class: "scroll" }, h("table", { id: "materials-table" }, h("caption", { class: "visually-hidden", text: "Materials" }), h("thead", {}, h("tr", {}, headers)), body)),
    more,
  );

  /** @param {Column} column */
  function sortBy(column) {
    state.direction = state.column === column && state.direction === "descending" ? "ascending" : state.column === column ? "descending" : column === "name" ? "ascending" : "descending";
    state.column = column;
    render();
  }

  function render() {
    const sorted = sortMaterials(materials, state.column, state.direction);
    body.replaceChildren(
      ...sorted.slice(0, state.shown).map((m) =>
        h("tr", {}, h("td", { class: "name", text: m.name }), h("td", { class: "num", text: formatCount(m.associatedObjects) }), h("td", { class: "num", text: m.expressId })),
      ),
    );
    headers.forEach((th, i) => {
      const column = columns[i]?.[0];
      if (column === state.column) th.setAttribute("aria-sort", state.direction);
      else th.removeAttribute("aria-sort");
    });
    more.hidden = sorted.length <= state.shown;
    more.textContent = `Show more (${formatCount(sorted.length - state.shown)} left)`;
  }

  render();
  return wrapper;
}
