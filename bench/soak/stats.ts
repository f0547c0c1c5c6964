// Pure arithmetic for the soak benchmark: least-squares slopes and growth after warm-up.

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  /** Uploads answered 202 so far. */
  uploads: number;
  /** Post-GC used JS heap of the Worker isolate, bytes (undefined when the inspector did not answer). */
  heap?: number;
  /** RSS of the workerd running the Worker (and, locally, its Durable Objects and R2). */
  runtimeRss: number;
  /** RSS of the workerd proxy in front of it. */
  proxyRss: number;
}

/** Least-squares slope of y over x; undefined with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

export interface SoakFigures {
  samples: number;
  uploads: number;
  heapAtWarmup?: number;
  heapAtEnd?: number;
  heapMax?: number;
  /** Fitted growth of the post-GC heap from warm-up to the end (slope x time), bytes. */
  heapGrowthFitted?: number;
  runtimeRssAtWarmup?: number;
  runtimeRssAtEnd?: number;
  runtimeRssMax: number;
  proxyRssMax: number;
  /** Bytes of runtime RSS per upload after warm-up (least squares over the samples). */
  rssPerUpload?: number;
  /** The same over the second half of the steady state only. */
  rssPerUploadLateHalf?: number;
}

/** Figures over the samples taken at or after `warmupS` seconds. */
export function figures(all: readonly Sample[], warmupS: number): SoakFigures {
  const steady = all.filter((s) => s.t >= warmupS);
  const heaps = steady.filter((s): s is Sample & { heap: number } => s.heap !== undefined);
  const first = steady[0];
  const last = steady.at(-1);
  const heapSlope = slope(heaps.map((s) => ({ x: s.t, y: s.heap })));
  const lateHalf = steady.slice(Math.floor(steady.length / 2));
  return {
    samples: all.length,
    uploads: last?.uploads ?? 0,
    heapAtWarmup: heaps[0]?.heap,
    heapAtEnd: heaps.at(-1)?.heap,
    heapMax: heaps.length > 0 ? Math.max(...heaps.map((s) => s.heap)) : undefined,
    heapGrowthFitted:
      heapSlope === undefined || heaps.length < 2 ? undefined : heapSlope * ((heaps.at(-1)?.t ?? 0) - (heaps[0]?.t ?? 0)),
    runtimeRssAtWarmup: first?.runtimeRss,
    runtimeRssAtEnd: last?.runtimeRss,
    runtimeRssMax: Math.max(0, ...all.map((s) => s.runtimeRss)),
    proxyRssMax: Math.max(0, ...all.map((s) => s.proxyRss)),
    rssPerUpload: slope(steady.map((s) => ({ x: s.uploads, y: s.runtimeRss }))),
    rssPerUploadLateHalf: slope(lateHalf.map((s) => ({ x: s.uploads, y: s.runtimeRss }))),
  };
}
