/**
 * A Map that keeps at most `limit` entries, dropping the least recently used first. For
 * isolate-level caches whose keys come from outside (a webhook host per subscription): an
 * isolate lives for many requests, so an unbounded cache would grow with every new key. An
 * entry dropped only costs the lookup it saved.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Answers the value and marks the entry as the most recently used. */
  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined;
    const value = this.#entries.get(key) as V;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  set(key: K, value: V): this {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    // Map iterates in insertion order: the first key is the least recently used.
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.limit) break;
      this.#entries.delete(oldest);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }
}
