/**
 * How many uploads one isolate runs at once. Beside the counted buffers, every upload holds a
 * request, streams and promises; this cap bounds those too, so a crowd of slow clients cannot
 * take the isolate's memory (and every request in it) down. Module state: one per isolate.
 */
export class UploadSlots {
  #used = 0;

  constructor(readonly max: number) {}

  get used(): number {
    return this.#used;
  }

  /** Takes a slot if one is free; the holder must call the returned release once. */
  tryAcquire(): (() => void) | null {
    if (this.#used >= this.max) return null;
    this.#used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used--;
    };
  }
}

export const DEFAULT_MAX_CONCURRENT_UPLOADS = 256;

const slots = new Map<number, UploadSlots>();

export function isolateUploadSlots(max: number = DEFAULT_MAX_CONCURRENT_UPLOADS): UploadSlots {
  let found = slots.get(max);
  if (!found) {
    found = new UploadSlots(max);
    slots.set(max, found);
  }
  return found;
}
