const MiB = 1024 * 1024;

/**
 * How web-ifc is sized for a memory budget: the WASM heap has a fixed base and grows by about
 * HEAP_PER_MODEL_BYTE for every byte of STEP text (the per-entity index web-ifc keeps whatever
 * MEMORY_LIMIT says), plus headroom for the vectors the summary asks for. The constants come
 * from bench/processing.ts (docs/performance.md).
 */
export const HEAP_BASE_BYTES = 24 * MiB;
export const HEAP_PER_MODEL_BYTE = 0.6;

export interface WebIfcBudget {
  /** Bytes web-ifc reads per callback and keeps per tape chunk. */
  tapeSize: number;
  /** Parsed tape web-ifc keeps in memory before it drops chunks and re-reads them. */
  memoryLimit: number;
  /** Largest model that fits the budget; larger ones fail with model_too_large up front. */
  maxModelBytes: number;
  /** After a model leaves the heap larger than this, the loader is re-created (WASM memory never shrinks). */
  recycleAboveBytes: number;
}

export function webIfcBudget(memoryBytes: number): WebIfcBudget {
  const memoryLimit = Math.min(64 * MiB, Math.max(8 * MiB, Math.floor(memoryBytes / 6 / MiB) * MiB));
  return {
    tapeSize: 1 * MiB,
    memoryLimit,
    maxModelBytes: Math.max(0, Math.floor((memoryBytes - HEAP_BASE_BYTES - (memoryLimit - 16 * MiB)) / HEAP_PER_MODEL_BYTE)),
    recycleAboveBytes: Math.floor(memoryBytes / 2),
  };
}
