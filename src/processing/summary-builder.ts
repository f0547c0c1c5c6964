/**
 * Builds a model summary from the scanner's events, keeping only what the summary needs:
 * counts per type, the instance ids (a paged bitmap, for duplicates and dangling
 * references), the header, and the few project, storey and material entities with their
 * references. Memory does not grow with the model's geometry. Pure: no I/O.
 */
import { IdSet } from "./id-set";
import { MATERIAL_EDGES, countMaterialAssociations } from "./material-associations";
import type { SchemaTable } from "./schema-tables";
import { type StepValue, numberOf, parseArguments, refsOf, stringOf } from "./step-values";
import type { StepProblem, TokenSink, TypeSlot } from "./step-tokenizer";
import { ValidationCollector } from "./validation-collector";
import { type ModelSummary, normaliseCounts, orderStoreys } from "./summary";

export interface CountSlot extends TypeSlot {
  count: number;
}

const WANTED = new Set(["IFCPROJECT", "IFCBUILDINGSTOREY", "IFCMATERIAL", "IFCRELASSOCIATESMATERIAL", ...Object.keys(MATERIAL_EDGES)]);

/**
 * What the builder keeps at most, so memory stays bounded whatever the file holds; past a
 * limit the summary lists the first ones and says so in a warning (counts stay exact).
 */
export const LIMITS = { materials: 100_000, storeys: 10_000, definitions: 1_000_000, associationRefs: 4_000_000 };

/** Budget of each id bitmap (defined, referenced, defined twice). */
const ID_SET_BYTES = 8 * 1024 * 1024;

export type ScanSummary = Omit<ModelSummary, "processor" | "file">;

export class SummaryBuilder implements TokenSink<CountSlot> {
  readonly #slots: CountSlot[] = [];
  readonly #defined = new IdSet(ID_SET_BYTES);
  readonly #referenced = new IdSet(ID_SET_BYTES);
  readonly #duplicated = new IdSet(ID_SET_BYTES);
  readonly #validation = new ValidationCollector();
  #entityCount = 0;
  #duplicate = false;
  #schemas: string[] = [];
  #associationRefs = 0;
  #fileName: StepValue[] = [];
  #fileDescription: StepValue[] = [];
  #project: { globalId: string; name: string | null } | null = null;
  readonly #storeys: { globalId: string; name: string; elevation: number | null }[] = [];
  readonly #materials: { expressId: number; name: string }[] = [];
  readonly #definitions = new Map<number, readonly number[]>();
  readonly #associations: { relatingMaterial: number | null; relatedObjects: readonly number[] }[] = [];

  /** The first FILE_SCHEMA entry, upper-case; "" until the header was read. */
  get schema(): string {
    return (this.#schemas[0] ?? "").toUpperCase();
  }

  get entityCount(): number {
    return this.#entityCount;
  }

  typeSlot(name: string): CountSlot {
    const slot = { name, wanted: WANTED.has(name), count: 0 };
    this.#slots.push(slot);
    return slot;
  }

  entity(id: number, slot: CountSlot, line: number): void {
    if (this.#defined.add(id)) {
      this.#duplicate = false;
      this.#entityCount++;
      slot.count++;
      return;
    }
    if (this.#defined.full) {
      // Ids too sparse to keep: counted as they come, duplicates no longer recognised.
      this.#duplicate = false;
      this.#entityCount++;
      slot.count++;
      this.#validation.once("ids_too_sparse", "instance ids too sparse to check for duplicates and dangling references beyond this point", line);
      return;
    }
    this.#duplicate = true;
    if (this.#duplicated.add(id)) this.#validation.warning("duplicate_id", `#${id} is defined more than once; the first definition counts`, line);
  }

  reference(id: number): void {
    this.#referenced.add(id);
  }

  problem(problem: StepProblem): void {
    this.#validation.add(problem);
  }

  header(keyword: string, args: Uint8Array | null, line: number): void {
    if (!args) return;
    const values = parseArguments(args);
    this.#noteStrings(values, line);
    if (keyword === "FILE_SCHEMA") {
      if (this.#schemas.length === 0) this.#schemas = flatStrings(values[0]);
    } else if (keyword === "FILE_NAME") {
      if (this.#fileName.length === 0) this.#fileName = values;
    } else if (keyword === "FILE_DESCRIPTION") {
      if (this.#fileDescription.length === 0) this.#fileDescription = values;
    }
  }

  captured(id: number, slot: CountSlot, args: Uint8Array | null, line: number): void {
    if (this.#duplicate) return;
    const values = args ? parseArguments(args) : [];
    this.#noteStrings(values, line);
    switch (slot.name) {
      case "IFCPROJECT":
        this.#project ??= { globalId: stringOf(values[0]) ?? "", name: stringOf(values[2]) };
        return;
      case "IFCBUILDINGSTOREY":
        if (this.#kept("storeys", this.#storeys.length, line)) {
          this.#storeys.push({ globalId: stringOf(values[0]) ?? "", name: stringOf(values[2]) ?? "", elevation: numberOf(values[9]) });
        }
        return;
      case "IFCMATERIAL":
        if (this.#kept("materials", this.#materials.length, line)) this.#materials.push({ expressId: id, name: stringOf(values[0]) ?? "" });
        return;
      case "IFCRELASSOCIATESMATERIAL": {
        const relatedObjects = refsOf(values[4]);
        this.#associationRefs += relatedObjects.length;
        if (this.#kept("associationRefs", this.#associationRefs - relatedObjects.length, line)) {
          this.#associations.push({ relatedObjects, relatingMaterial: refsOf(values[5])[0] ?? null });
        }
        return;
      }
      default: {
        const attributes = MATERIAL_EDGES[slot.name] ?? [];
        if (this.#kept("definitions", this.#definitions.size, line)) this.#definitions.set(id, attributes.flatMap((index) => refsOf(values[index])));
      }
    }
  }

  /** The summary of everything scanned; `table` judges unknown types (null: not judged). */
  finish(table: SchemaTable | null): ScanSummary {
    const counts: [string, number][] = this.#slots.map((slot) => [slot.name, slot.count]);
    const unknown = table ? counts.filter(([name, count]) => count > 0 && !table.has(name)) : [];
    const dangling = this.#referenced.full || this.#defined.full ? 0 : this.#referenced.countMissingFrom(this.#defined);
    const fileName = this.#fileName;
    return {
      schema: this.schema,
      entityCount: this.#entityCount,
      header: {
        fileName: stringOf(fileName[0]),
        timeStamp: stringOf(fileName[1]),
        originatingSystem: stringOf(fileName[5]),
        preprocessorVersion: stringOf(fileName[4]),
        description: flatStrings(this.#fileDescription[0]),
      },
      project: this.#project,
      storeys: orderStoreys(this.#storeys),
      counts: normaliseCounts(counts),
      materials: countMaterialAssociations({ materials: this.#materials, definitions: this.#definitions, associations: this.#associations }),
      validation: this.#validation.report({
        unknownTypes: normaliseCounts(unknown),
        duplicateIds: this.#duplicated.size,
        danglingReferences: dangling,
        schemaTable: table?.name ?? null,
      }),
    };
  }

  #kept(what: keyof typeof LIMITS, held: number, line: number): boolean {
    if (held < LIMITS[what]) return true;
    this.#validation.once(`too_many_${what}`, `more than ${LIMITS[what]} ${what}: the summary uses the first ${LIMITS[what]}`, line);
    return false;
  }

  #noteStrings(values: StepValue[], line: number): void {
    const pending: StepValue[] = values.slice();
    while (pending.length > 0) {
      const v = pending.pop();
      if (Array.isArray(v)) for (const item of v) pending.push(item);
      else if (v && v.t === "typed") for (const item of v.args) pending.push(item);
      else if (v && v.t === "string") {
        if (v.truncated) this.#validation.warning("string_truncated", `a string longer than the summary keeps was cut`, line);
        if (v.invalidUtf8) this.#validation.warning("invalid_utf8", "a string is not valid UTF-8; invalid bytes were replaced", line);
      }
    }
  }

}

/** Header lists kept (FILE_DESCRIPTION, FILE_SCHEMA entries). */
const MAX_HEADER_ENTRIES = 100;

function flatStrings(value: StepValue | undefined): string[] {
  if (!Array.isArray(value)) {
    const single = stringOf(value);
    return single === null ? [] : [single];
  }
  return value
    .slice(0, MAX_HEADER_ENTRIES)
    .map(stringOf)
    .filter((text): text is string => text !== null);
}
