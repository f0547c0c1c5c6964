// Concurrent HTTP load for the upload benchmarks: many requests at once, each timed.
import { request } from "node:http";

export interface Timed {
  status: number;
  ms: number;
}

/** POSTs `body` to `url` once; resolves with the status and the time to the whole answer. */
export function post(url: string, token: string, body: Uint8Array): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", "content-length": String(body.byteLength) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * A client that sends `body` at `bytesPerSecond` (1 KiB pieces) until it is done or `stop()` is
 * called; resolves with the answer's status, or 0 when it was stopped before one came.
 */
export function trickle(url: string, token: string, body: Uint8Array, bytesPerSecond: number): { done: Promise<Timed>; stop: () => void } {
  const started = performance.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  let settle: (value: Timed) => void = () => undefined;
  const req = request(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", "content-length": String(body.byteLength) },
    agent: false,
  });
  const done = new Promise<Timed>((resolve) => {
    settle = resolve;
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
  });
  let at = 0;
  const piece = 1024;
  timer = setInterval(() => {
    if (at >= body.byteLength) return clearInterval(timer);
    req.write(body.subarray(at, at + piece));
    at += piece;
  }, (1000 * piece) / bytesPerSecond);
  return {
    done,
    stop: () => {
      clearInterval(timer);
      req.destroy();
      settle({ status: 0, ms: performance.now() - started });
    },
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/** Runs `count` uploads at once; wall time and each upload's time. */
export async function burst(count: number, upload: (i: number) => Promise<Timed>): Promise<{ wallMs: number; results: Timed[] }> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => upload(i)));
  return { wallMs: performance.now() - started, results };
}
