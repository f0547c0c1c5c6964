// Pure formatting helpers (no DOM), shared by the views.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Decimal units, as browsers and operating systems show file sizes. @param {number} bytes */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}

/** @param {number} bytesPerSecond */
export function formatRate(bytesPerSecond) {
  return `${(Math.max(0, bytesPerSecond) / 1e6).toFixed(1)} MB/s`;
}

/** @param {number} done @param {number} total */
export function percent(done, total) {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.floor((done / total) * 100));
}

/** @param {string | undefined | null} iso */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** @param {number} value */
export function formatCount(value) {
  return Number.isFinite(value) ? value.toLocaleString("en-US") : "?";
}

/** Storey elevations as exported carry float noise (3.100000000000378): millimetres are enough. @param {number | null} value */
export function formatElevation(value) {
  return typeof value === "number" && Number.isFinite(value) ? String(Number(value.toFixed(3))) : "—";
}

/**
 * Bytes per second over a sliding window of (time, bytes) samples.
 */
export class RateMeter {
  /** @param {number} windowMs */
  constructor(windowMs = 3000) {
    this.windowMs = windowMs;
    /** @type {{t: number, bytes: number}[]} */
    this.samples = [];
  }

  /** @param {number} now @param {number} bytes cumulative bytes sent in this run */
  add(now, bytes) {
    this.samples.push({ t: now, bytes });
    while (this.samples.length > 2 && now - (this.samples[0]?.t ?? now) > this.windowMs) this.samples.shift();
  }

  reset() {
    this.samples = [];
  }

  /** @returns {number} */
  rate() {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t <= first.t) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}
