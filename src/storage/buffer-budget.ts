/**
 * The bytes of part buffers that the uploads of one isolate may hold together. Workers run
 * concurrent requests in one isolate under one memory limit (128 MB): each S3 upload holds up
 * to S3_PART_SIZE x (S3_UPLOAD_CONCURRENCY + 1), so a few large uploads at once would take the
 * isolate, and every request in it, down. Pure bookkeeping, no waiting and no I/O.
 */
export class BufferBudget {
  #free: number;

  constructor(readonly totalBytes: number) {
    this.#free = totalBytes;
  }

  get freeBytes(): number {
    return this.#free;
  }

  /** Takes `bytes` if they are free now. */
  tryTake(bytes: number): boolean {
    if (bytes > this.#free) return false;
    this.#free -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.#free = Math.min(this.totalBytes, this.#free + bytes);
  }
}

export const DEFAULT_UPLOAD_BUFFER_BYTES = 80 * 1024 * 1024;
/** What a large upload holds besides its part buffers: the pump's two 1 MiB blocks and a 1 MiB multipart scan buffer. */
export const UPLOAD_OVERHEAD_BYTES = 3 * 1024 * 1024;

const budgets = new Map<number, BufferBudget>();

/** The isolate's budget of the configured size (module state lives as long as the isolate). */
export function isolateBufferBudget(totalBytes: number = DEFAULT_UPLOAD_BUFFER_BYTES): BufferBudget {
  let budget = budgets.get(totalBytes);
  if (!budget) {
    budget = new BufferBudget(totalBytes);
    budgets.set(totalBytes, budget);
  }
  return budget;
}

/** The isolate has no buffer budget left for another upload: not the storage's fault. */
export class UploadCapacityError extends Error {
  constructor(readonly budgetBytes: number) {
    super(`the isolate's upload buffers (${budgetBytes} bytes) are all in use`);
    this.name = "UploadCapacityError";
  }
}

/**
 * The memory one upload holds outside its part buffers (the pump's blocks, the multipart
 * scanner's buffer), taken from the same budget so that every buffer an upload holds is
 * counted. Taken before the buffers are allocated; everything goes back at `release()`.
 */
export class MemoryLease {
  readonly #budget: BufferBudget;
  #held = 0;

  constructor(budget: BufferBudget) {
    this.#budget = budget;
  }

  get heldBytes(): number {
    return this.#held;
  }

  /** Throws UploadCapacityError when the isolate's budget cannot spare `bytes` now. */
  take(bytes: number): void {
    if (!this.#budget.tryTake(bytes)) throw new UploadCapacityError(this.#budget.totalBytes);
    this.#held += bytes;
  }

  release(): void {
    this.#budget.give(this.#held);
    this.#held = 0;
  }
}

/**
 * The part buffers of one upload, drawn from the isolate's budget. A buffer the upload has
 * finished with is filled again; a new one is allocated while the budget allows; once it is
 * spent, the upload goes on with the buffers it has, waiting for a part in flight to come back.
 * Only an upload that holds none yet is refused, before it has written anything.
 */
export class PartBuffers {
  readonly #budget: BufferBudget;
  readonly #spare: Uint8Array[] = [];
  #held = 0;
  #returned: (() => void) | undefined;

  constructor(
    budget: BufferBudget,
    readonly size: number,
  ) {
    this.#budget = budget;
  }

  async take(): Promise<Uint8Array> {
    for (;;) {
      const spare = this.#spare.pop();
      if (spare) return spare;
      if (this.#budget.tryTake(this.size)) {
        this.#held += this.size;
        return new Uint8Array(this.size);
      }
      if (this.#held === 0) throw new UploadCapacityError(this.#budget.totalBytes);
      await new Promise<void>((resolve) => {
        this.#returned = resolve;
      });
    }
  }

  /** Hands back the buffer of a part that has settled, whether it went up or failed. */
  give(part: Uint8Array): void {
    if (part.buffer.byteLength === this.size) this.#spare.push(new Uint8Array(part.buffer));
    const returned = this.#returned;
    this.#returned = undefined;
    returned?.();
  }

  /** At the end of the upload: every buffer it held goes back to the budget. */
  release(): void {
    this.#budget.give(this.#held);
    this.#held = 0;
    this.#spare.length = 0;
  }
}
