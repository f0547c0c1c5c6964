/** The model summary stored beside the model as summary.json and in the job record. */
export interface ModelSummary {
  schema: string;
  /** Entity instances in the DATA section. */
  entityCount: number;
  header: SummaryHeader;
  project: { globalId: string; name: string | null } | null;
  /** Ordered by elevation (unknown last), then name. */
  storeys: { globalId: string; name: string; elevation: number | null }[];
  /** Instances per entity type present, upper-case names, sorted by name. */
  counts: Record<string, number>;
  /** One entry per IFCMATERIAL instance, ordered by expressId. */
  materials: MaterialSummary[];
  /** The stored bytes the summary was made from. */
  file: { size: number; sha256: string };
  validation: ValidationReport;
  processor: ProcessorInfo;
  /**
   * Only on the copy a job record keeps when the full summary is too large for it: the
   * number of entries the full lists hold (the copy has their first ones; summary.json all).
   */
  truncated?: { materials: number; storeys: number };
}

export interface ValidationIssue {
  line: number;
  code: string;
  message: string;
}

/** Bounded: the first MAX_ISSUES errors and warnings; totals always. */
export interface ValidationReport {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Instances per type the schema table lacks (empty when no table was used). */
  unknownTypes: Record<string, number>;
  /** Instance ids defined more than once (each counted once in entityCount). */
  duplicateIds: number;
  /** Distinct ids referenced but never defined. */
  danglingReferences: number;
  /** True when a list above was cut to its first entries. */
  truncated: boolean;
  /** The schema table unknown types were judged against (e.g. IFC4X3 for IFC4X3_RC2); null if none. */
  schemaTable: string | null;
  /** Totals of errors and warnings, including those left out of the lists. */
  errorCount: number;
  warningCount: number;
}

export interface SummaryHeader {
  fileName: string | null;
  timeStamp: string | null;
  originatingSystem: string | null;
  preprocessorVersion: string | null;
  description: string[];
}

export interface MaterialSummary {
  expressId: number;
  name: string;
  associatedObjects: number;
}

export interface ProcessorInfo {
  engine: "web-ifc" | "stream" | "mock";
  version: string;
  durationMs: number;
  /** Size of the WASM heap after the model was read (web-ifc only), for capacity planning. */
  heapBytes?: number;
  /** Where the time went (web-ifc only): opening/parsing, counting entities, the rest. */
  phasesMs?: Record<string, number>;
}

/** Drops zero counts, upper-cases names and orders them, so summaries compare byte for byte. */
export function normaliseCounts(counts: Iterable<[string, number]>): Record<string, number> {
  const merged = new Map<string, number>();
  for (const [name, count] of counts) {
    if (count <= 0) continue;
    const key = name.toUpperCase();
    merged.set(key, (merged.get(key) ?? 0) + count);
  }
  return Object.fromEntries([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function orderStoreys<T extends { name: string; elevation: number | null }>(storeys: T[]): T[] {
  return [...storeys].sort((a, b) => {
    if (a.elevation !== b.elevation) {
      if (a.elevation === null) return 1;
      if (b.elevation === null) return -1;
      return a.elevation - b.elevation;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** STEP REAL literals such as "0." or "-2.5E+03"; null when absent or not a finite number. */
export function parseStepReal(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const parsed = typeof value === "number" ? value : Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}
