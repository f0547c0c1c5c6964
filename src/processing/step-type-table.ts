import type { TypeSlot } from "./step-sink";

/**
 * Hash of a type name from its length and a few bytes (names differ most after "IFC" and at
 * the end): cheap per instance; the table compares the whole name, so collisions cost a probe.
 */
export function nameHash(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  const last = end - 1;
  let hash = Math.imul(length, 0x9e3779b1);
  if (length > 5) hash = Math.imul(hash ^ ((bytes[start + 3] as number) | ((bytes[start + 4] as number) << 8) | ((bytes[start + 5] as number) << 16)), 0x85ebca6b);
  if (length > 0) {
    const middle = bytes[start + (length >> 1)] as number;
    hash = Math.imul(hash ^ ((bytes[last] as number) | ((bytes[last - (length > 1 ? 1 : 0)] as number) << 8) | (middle << 16)), 0xc2b2ae35);
  }
  return hash ^ (hash >>> 15);
}

/**
 * Type names seen so far, in an open-addressing table: one probe and a byte comparison per
 * instance, no string built (a model has a few hundred types and millions of instances).
 */
export class TypeTable<S extends TypeSlot> {
  #capacity = 1024;
  #entries: ({ hash: number; bytes: Uint8Array; slot: S } | undefined)[] = new Array<undefined>(1024);
  #count = 0;

  constructor(private readonly make: (name: string) => S) {}

  get size(): number {
    return this.#count;
  }

  slot(bytes: Uint8Array, start: number, end: number, hash: number): S {
    const mask = this.#capacity - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = this.#entries[at];
      if (entry === undefined) break;
      if (entry.hash === hash && sameBytes(entry.bytes, bytes, start, end)) return entry.slot;
    }
    let name = "";
    for (let k = start; k < end; k++) name += String.fromCharCode(bytes[k] as number);
    const slot = this.make(name);
    this.#insert({ hash, bytes: bytes.slice(start, end), slot });
    return slot;
  }

  #insert(entry: { hash: number; bytes: Uint8Array; slot: S }): void {
    if ((this.#count + 1) * 2 > this.#capacity) {
      const old = this.#entries.filter((e) => e !== undefined);
      this.#capacity *= 2;
      this.#entries = new Array<undefined>(this.#capacity);
      this.#count = 0;
      for (const e of old) this.#insert(e);
    }
    const mask = this.#capacity - 1;
    let at = entry.hash & mask;
    while (this.#entries[at] !== undefined) at = (at + 1) & mask;
    this.#entries[at] = entry;
    this.#count++;
  }
}

function sameBytes(name: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  if (name.length !== end - start) return false;
  for (let k = 0; k < name.length; k++) if (name[k] !== bytes[start + k]) return false;
  return true;
}

