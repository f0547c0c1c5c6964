// A horizontal bar chart of the most frequent entity types, as inline SVG.

const SVG = "http://www.w3.org/2000/svg";

/**
 * @param {Record<string, number>} counts
 * @param {number} top
 * @returns {{name: string, count: number}[]} the most frequent first; ties by name
 */
export function topEntityTypes(counts, top) {
  return Object.entries(counts)
    .filter(([, count]) => typeof count === "number" && count > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, top)
    .map(([name, count]) => ({ name, count }));
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 */
function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * @param {{name: string, count: number}[]} bars
 * @param {string} title
 * @returns {SVGSVGElement}
 */
export function barChart(bars, title) {
  // Label above its bar rather than beside it, so the chart stays legible in a narrow window.
  const rowHeight = 38;
  const width = 360;
  const countWidth = 64;
  const height = Math.max(1, bars.length) * rowHeight;
  const max = Math.max(1, ...bars.map((bar) => bar.count));
  const chart = /** @type {SVGSVGElement} */ (svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart", "aria-label": title }));
  chart.append(svg("title", {}, title));
  bars.forEach((bar, i) => {
    const y = i * rowHeight;
    const length = Math.max(2, (bar.count / max) * (width - countWidth));
    const group = svg("g", { class: "bar" });
    group.append(svg("title", {}, `${bar.name}: ${bar.count.toLocaleString("en-US")}`));
    group.append(svg("text", { x: 0, y: y + 13 }, bar.name));
    group.append(svg("rect", { x: 0, y: y + 18, height: 14, width: length, rx: 2 }));
    group.append(svg("text", { x: length + 6, y: y + 30, class: "count" }, bar.count.toLocaleString("en-US")));
    chart.append(group);
  });
  return chart;
}
