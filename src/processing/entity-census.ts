/**
 * Counts entity instances the way STEP defines them: an instance name (#id) is one
 * instance however often the file defines it. Readers such as web-ifc keep every
 * definition as a line (test.ifc defines #1..#12 twelve times each: 12 instances, 144 lines).
 * An id defined more than once counts once, under the type `typeOfDuplicate` reports.
 *
 * Memory stays small for big models: a bitmap over the id range rather than a JS Set,
 * unless ids are so sparse that the bitmap would be larger.
 */
export interface CensusSource<T> {
  types: readonly T[];
  /** Calls `visit` with every line id of `type` (duplicates included). */
  forEachId(type: T, visit: (id: number) => void): void;
  /** The type that wins for an id defined more than once. */
  typeOfDuplicate(id: number): T;
  maxId: number;
}

export interface Census<T> {
  entityCount: number;
  counts: Map<T, number>;
}

const MAX_BITMAP_BYTES = 16 * 1024 * 1024;

export function takeCensus<T>(source: CensusSource<T>): Census<T> {
  const seen = idSet(source.maxId);
  const duplicates = idSet(source.maxId);
  let entityCount = 0;
  for (const type of source.types) {
    source.forEachId(type, (id) => {
      if (seen.has(id)) duplicates.add(id);
      else {
        seen.add(id);
        entityCount++;
      }
    });
  }
  const counts = new Map<T, number>();
  const bump = (type: T) => counts.set(type, (counts.get(type) ?? 0) + 1);
  if (duplicates.size() === 0) {
    for (const type of source.types) source.forEachId(type, () => bump(type));
  } else {
    for (const type of source.types) source.forEachId(type, (id) => duplicates.has(id) || bump(type));
    for (const id of duplicates.values()) bump(source.typeOfDuplicate(id));
  }
  return { entityCount, counts };
}

interface IdSet {
  has(id: number): boolean;
  add(id: number): void;
  size(): number;
  values(): Iterable<number>;
}

function idSet(maxId: number): IdSet {
  if (maxId < 0 || maxId / 8 > MAX_BITMAP_BYTES) {
    const set = new Set<number>();
    return { has: (id) => set.has(id), add: (id) => void set.add(id), size: () => set.size, values: () => set };
  }
  const bits = new Uint8Array(Math.floor(maxId / 8) + 1);
  let size = 0;
  const inRange = (id: number) => Number.isInteger(id) && id >= 0 && id <= maxId;
  const outliers = new Set<number>(); // ids outside what the reader said was the range
  return {
    has: (id) => (inRange(id) ? ((bits[id >> 3] ?? 0) & (1 << (id & 7))) !== 0 : outliers.has(id)),
    add: (id) => {
      if (!inRange(id)) {
        if (!outliers.has(id)) size++;
        outliers.add(id);
        return;
      }
      const byte = bits[id >> 3] ?? 0;
      const mask = 1 << (id & 7);
      if ((byte & mask) === 0) size++;
      bits[id >> 3] = byte | mask;
    },
    size: () => size,
    *values() {
      for (let id = 0; id <= maxId; id++) if (((bits[id >> 3] ?? 0) & (1 << (id & 7))) !== 0) yield id;
      yield* outliers;
    },
  };
}
