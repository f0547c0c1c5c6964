import { type BufferBudget, UploadCapacityError } from "./buffer-budget";

/**
 * Part buffers reused from one request to the next: an upload session's parts arrive one
 * request each, and a fresh 8 MiB buffer per part leaves the GC hundreds of megabytes to find
 * over a large model. Buffers in use and the few spares kept count against the isolate's budget.
 */
export class PartPool {
  readonly #spares = new Map<number, Uint8Array[]>();

  constructor(
    private readonly budget: BufferBudget,
    private readonly maxSpares = 2,
  ) {}

  /** A buffer of exactly `size` bytes; UploadCapacityError when the budget has none left. */
  take(size: number): Uint8Array {
    const spare = this.#spares.get(size)?.pop();
    if (spare) return spare;
    if (!this.budget.tryTake(size)) throw new UploadCapacityError(this.budget.totalBytes);
    return new Uint8Array(size);
  }

  /** Hands a buffer back (whatever view of it the reads left); kept for the next part or freed. */
  give(buffer: Uint8Array): void {
    const size = buffer.buffer.byteLength;
    const spares = this.#spares.get(size) ?? [];
    if (spares.length < this.maxSpares) {
      spares.push(new Uint8Array(buffer.buffer as ArrayBuffer));
      this.#spares.set(size, spares);
    } else {
      this.budget.give(size);
    }
  }
}

const pools = new WeakMap<BufferBudget, PartPool>();

/** One pool per budget, for the isolate's lifetime. */
export function partPool(budget: BufferBudget): PartPool {
  let pool = pools.get(budget);
  if (!pool) {
    pool = new PartPool(budget);
    pools.set(budget, pool);
  }
  return pool;
}
