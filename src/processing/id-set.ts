/**
 * A set of instance ids as a paged bitmap: one bit per id in pages of PAGE_IDS ids, pages
 * made on first use. Dense ids (what exporters write) cost an eighth of a byte each; the
 * budget caps what sparse ids (#1, #1000000, #2000000, ...) may cost, after which the set
 * answers `full` and stops growing.
 */
const PAGE_BITS = 15;
const PAGE_IDS = 1 << PAGE_BITS; // 4 KiB of bits per page
const PAGE_WORDS = PAGE_IDS / 32;

/** Pages of ids below 2^31 are found by index in an array; higher ones through a map. */
const LOW_PAGES = 0x80000000 / PAGE_IDS;

export class IdSet {
  readonly #low: (Uint32Array | undefined)[] = new Array<undefined>(LOW_PAGES);
  readonly #pages = new Map<number, Uint32Array>();
  readonly #maxPages: number;
  #size = 0;
  #full = false;

  constructor(budgetBytes: number) {
    this.#maxPages = Math.max(1, Math.floor(budgetBytes / (PAGE_IDS / 8)));
  }

  get size(): number {
    return this.#size;
  }

  /** True once an id could not be kept because the budget was spent. */
  get full(): boolean {
    return this.#full;
  }

  get bytes(): number {
    return this.#pages.size * (PAGE_IDS / 8);
  }

  has(id: number): boolean {
    const page = this.#page(id, false);
    if (!page) return false;
    const bit = id & (PAGE_IDS - 1);
    return ((page[bit >>> 5] ?? 0) & (1 << (bit & 31))) !== 0;
  }

  /** Adds `id`; answers false if it was already present (or cannot be kept: see `full`). */
  add(id: number): boolean {
    const page = this.#page(id, true);
    if (!page) return false;
    const bit = id & (PAGE_IDS - 1);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const old = page[word] ?? 0;
    if ((old & mask) !== 0) return false;
    page[word] = old | mask;
    this.#size++;
    return true;
  }

  /** How many ids of this set are not in `other`. */
  countMissingFrom(other: IdSet): number {
    let missing = 0;
    for (const [index, page] of this.#pages) {
      const theirs = other.#pages.get(index);
      for (let w = 0; w < PAGE_WORDS; w++) missing += popcount((page[w] ?? 0) & ~(theirs?.[w] ?? 0));
    }
    return missing;
  }

  #page(id: number, create: boolean): Uint32Array | undefined {
    // Ids above 2^31 do not fit the bit operations: page index by division.
    const index = id < 0x80000000 ? id >>> PAGE_BITS : Math.floor(id / PAGE_IDS);
    const page = index < LOW_PAGES ? this.#low[index] : this.#pages.get(index);
    if (page !== undefined || !create) return page;
    if (this.#pages.size >= this.#maxPages) {
      this.#full = true;
      return undefined;
    }
    const made = new Uint32Array(PAGE_WORDS);
    this.#pages.set(index, made);
    if (index < LOW_PAGES) this.#low[index] = made;
    return made;
  }
}

function popcount(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
