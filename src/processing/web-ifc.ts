/**
 * The web-ifc adapter: a little longer than our files usually are because opening the model,
 * the census and the id-vector copies share one IfcAPI instance and its memory budget.
 */
import type { IfcAPI, Vector } from "web-ifc";
import { takeCensus } from "./entity-census";
import { MATERIAL_EDGES, countMaterialAssociations } from "./material-associations";
import { type ModelSource, type ProcessOptions, ProcessingError, type RandomAccessProcessor, tooLargeError } from "./processor";
import { scanBlocks } from "./stream";
import { blocksOf, withScan } from "./web-ifc-scan";
import { type ModelSummary, normaliseCounts, orderStoreys, parseStepReal } from "./summary";
import { type WebIfcLibrary, discardIfcApi, heapBytes, ifcApi, webIfcLibrary } from "./web-ifc-loader";
import { webIfcBudget } from "./web-ifc-budget";

/** The web-ifc adapter: reads the model through OpenModelFromCallback within a memory budget. */
export function webIfcProcessor(memoryBytes: number, now: () => number = Date.now): RandomAccessProcessor {
  const budget = webIfcBudget(memoryBytes);
  return {
    engine: "web-ifc",
    input: "random-access",
    maxModelBytes: budget.maxModelBytes,
    async process(source: ModelSource, options: ProcessOptions = {}): Promise<ModelSummary> {
      if (source.size > budget.maxModelBytes) throw tooLargeError(source.size, budget.maxModelBytes);
      const started = now();
      const { api, library } = await loadApi();
      let modelId = -1;
      // Anything thrown through web-ifc's frames may leave its state broken: start afresh then.
      let trusted = false;
      try {
        modelId = api.OpenModelFromCallback((offset, length) => source.read(offset, length), {
          TAPE_SIZE: budget.tapeSize,
          MEMORY_LIMIT: budget.memoryLimit,
          COORDINATE_TO_ORIGIN: false,
        });
        trusted = true;
        if (modelId < 0) throw unreadable(source, library);
        trusted = false;
        const opened = now();
        const summary = summarise(api, library, modelId, now);
        trusted = true;
        if (summary.entityCount === 0) {
          throw new ProcessingError("invalid_step", "The model's DATA section holds no entity instances; the file is empty or cut short. Export it again.");
        }
        const { timings, ...rest } = summary;
        const scanStarted = now();
        // The validation report, the hash and the types web-ifc's schema table lacks come from
        // the stream engine's scanner over the same bytes (web-ifc cannot name such types).
        const scan = await scanBlocks(blocksOf(source), source.size, options);
        return {
          ...withScan(rest, scan),
          file: { size: source.size, sha256: scan.sha256 },
          processor: {
            engine: "web-ifc",
            version: String(api.GetVersion()),
            durationMs: now() - started,
            heapBytes: heapBytes(api),
            phasesMs: { open: opened - started, ...timings, scan: now() - scanStarted },
          },
        };
      } catch (error) {
        throw classify(error);
      } finally {
        if (modelId >= 0) {
          try {
            api.CloseModel(modelId);
          } catch {
            trusted = false;
          }
        }
        if (!trusted || heapBytes(api) > budget.recycleAboveBytes) discardIfcApi();
      }
    },
  };
}

async function loadApi(): Promise<{ api: IfcAPI; library: WebIfcLibrary }> {
  try {
    return { api: await ifcApi(), library: await webIfcLibrary() };
  } catch (error) {
    throw new ProcessingError("internal", "The model reader could not start; the job will be retried.", true, { cause: error, fault: "infrastructure" });
  }
}

type Summarised = Omit<ModelSummary, "processor" | "file" | "validation"> & { timings: { census: number; lines: number } };

function summarise(api: IfcAPI, library: WebIfcLibrary, modelId: number, now: () => number): Summarised {
  const started = now();
  const ids = (typeName: string): Uint32Array => {
    const code = api.GetTypeCodeFromName(typeName);
    return code ? drainIds(api, api.GetLineIDsWithType(modelId, code)) : new Uint32Array(0);
  };

  // Only types with lines matter; the schema lists some 800, most absent from any one model.
  const census = takeCensus({
    types: api.GetIfcEntityList(modelId),
    maxId: api.GetMaxExpressID(modelId),
    forEachId: (code, visit) => {
      for (const id of drainIds(api, api.GetLineIDsWithType(modelId, code))) visit(id);
    },
    typeOfDuplicate: (id) => api.GetLineType(modelId, id) as number,
  });
  const counts = [...census.counts].map(([code, count]): [string, number] => [api.GetNameFromTypeCode(code), count]);
  const censusDone = now();

  const projectIds = ids("IFCPROJECT");
  const storeyIds = ids("IFCBUILDINGSTOREY");
  const materialIds = ids("IFCMATERIAL");
  const associationIds = ids("IFCRELASSOCIATESMATERIAL");
  const definitionIds = Object.entries(MATERIAL_EDGES).map(([typeName, attributes]) => ({ ids: ids(typeName), attributes }));
  // web-ifc keeps only MEMORY_LIMIT of parsed text and re-reads the rest on demand: reading
  // the lines in id order (file order, for the exporters seen) sweeps the model once
  // instead of once per type.
  const lines = readLines(api, modelId, [projectIds.slice(0, 1), storeyIds, materialIds, associationIds, ...definitionIds.map((d) => d.ids)]);
  const line = (id: number): unknown[] => lines.get(id) ?? [];

  const definitions = new Map<number, readonly number[]>();
  for (const { ids: found, attributes } of definitionIds) {
    for (const id of found) definitions.set(id, attributes.flatMap((index) => refs(line(id)[index])));
  }
  const fileName = headerArguments(api, modelId, library.FILE_NAME);
  const fileDescription = headerArguments(api, modelId, library.FILE_DESCRIPTION);
  const projectId = projectIds[0];
  const project = projectId === undefined ? null : line(projectId);

  const summary = {
    schema: api.GetModelSchema(modelId),
    entityCount: census.entityCount,
    header: {
      fileName: text(fileName[0]),
      timeStamp: text(fileName[1]),
      originatingSystem: text(fileName[5]),
      preprocessorVersion: text(fileName[4]),
      description: texts(fileDescription[0]),
    },
    project: project ? { globalId: text(project[0]) ?? "", name: text(project[2]) } : null,
    storeys: orderStoreys(
      Array.from(storeyIds, (id) => {
        const args = line(id);
        return { globalId: text(args[0]) ?? "", name: text(args[2]) ?? "", elevation: parseStepReal(value(args[9])) };
      }),
    ),
    counts: normaliseCounts(counts),
    materials: countMaterialAssociations({
      materials: Array.from(materialIds, (id) => ({ expressId: id, name: text(line(id)[0]) ?? "" })),
      definitions,
      associations: Array.from(associationIds, (id) => {
        const args = line(id);
        return { relatedObjects: refs(args[4]), relatingMaterial: refs(args[5])[0] ?? null };
      }),
    }),
  };
  return { ...summary, timings: { census: censusDone - started, lines: now() - censusDone } };
}

function readLines(api: IfcAPI, modelId: number, groups: Uint32Array[]): Map<number, unknown[]> {
  const wanted = new Set<number>();
  for (const group of groups) for (const id of group) wanted.add(id);
  const lines = new Map<number, unknown[]>();
  for (const id of [...wanted].sort((a, b) => a - b)) {
    const args: unknown = api.GetRawLineData(modelId, id).arguments;
    lines.set(id, Array.isArray(args) ? args : []);
  }
  return lines;
}

function headerArguments(api: IfcAPI, modelId: number, headerType: number): unknown[] {
  const header: unknown = api.GetHeaderLine(modelId, headerType);
  const args = header && typeof header === "object" && "arguments" in header ? header.arguments : undefined;
  return Array.isArray(args) ? args : [];
}

/**
 * web-ifc hands out embind vectors of ids: copy them into JS and free the WASM side at once.
 * One embind call per element is far too slow for millions of ids, so the vector's storage
 * is copied straight from the heap when its layout checks out (libc++
 * `std::vector<uint32_t>`: begin and end pointers at the object's address); otherwise
 * element by element.
 */
function drainIds(api: IfcAPI, vector: Vector<number>): Uint32Array {
  try {
    const size = vector.size();
    const heap = (api.wasmModule as { HEAPU32?: Uint32Array } | undefined)?.HEAPU32;
    const pointer = (vector as Vector<number> & { $$?: { ptr?: unknown } }).$$?.ptr;
    if (heap && typeof pointer === "number" && pointer % 4 === 0) {
      const begin = heap[pointer / 4] ?? 0;
      const end = heap[pointer / 4 + 1] ?? 0;
      const direct = (end - begin) / 4 === size && begin % 4 === 0 ? heap.slice(begin / 4, end / 4) : undefined;
      if (direct && (size === 0 || (direct[0] === vector.get(0) && direct[size - 1] === vector.get(size - 1)))) return direct;
    }
    const out = new Uint32Array(size);
    for (let i = 0; i < size; i++) out[i] = vector.get(i);
    return out;
  } finally {
    release(vector);
  }
}

function release(vector: Vector<number>): void {
  (vector as Vector<number> & { delete?: () => void }).delete?.();
}

/** web-ifc 0.0.78 raw values are `{type, value}`; lists are arrays; `$` is null. */
function value(arg: unknown): string | number | null {
  if (arg && typeof arg === "object" && "value" in arg) {
    const v = arg.value;
    if (typeof v === "string" || typeof v === "number") return v;
  }
  return null;
}

function text(arg: unknown): string | null {
  const v = value(arg);
  return typeof v === "string" ? v : null;
}

function texts(arg: unknown): string[] {
  return Array.isArray(arg) ? arg.map(text).filter((t): t is string => t !== null) : [];
}

/** Entity references (type 5) in an attribute, flattening lists. */
function refs(arg: unknown): number[] {
  if (Array.isArray(arg)) return arg.flatMap(refs);
  if (arg && typeof arg === "object" && "type" in arg && arg.type === 5) {
    const v = value(arg);
    return typeof v === "number" ? [v] : [];
  }
  return [];
}

/** web-ifc answered -1: tell an unknown schema from a file it could not parse. */
function unreadable(source: ModelSource, library: WebIfcLibrary): ProcessingError {
  const head = new TextDecoder("latin1").decode(source.read(0, Math.min(source.size, 64 * 1024)));
  const schema = /FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'/i.exec(head)?.[1]?.toUpperCase();
  if (schema && !library.SchemaNames.flat().includes(schema)) {
    return new ProcessingError(
      "unsupported_schema",
      `The model uses schema ${schema}, which the model reader does not support; export it as IFC2X3, IFC4 or IFC4X3.`,
    );
  }
  return new ProcessingError(
    "invalid_step",
    "The model is not valid STEP (ISO 10303-21): the reader stopped at a syntax error such as an unterminated string or comment. Check the file with an IFC validator and export it again.",
  );
}

function classify(error: unknown): ProcessingError {
  if (error instanceof ProcessingError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) {
    if (/memory|OOM|enlarge|allocation/i.test(detail)) {
      return new ProcessingError("model_too_large", "The model needs more memory than a job may use; split the model or contact support.", false, { cause: error });
    }
    return new ProcessingError(
      "invalid_step",
      `The model reader failed on this file (${detail}); it is probably malformed, e.g. nested too deeply. Check it with an IFC validator.`,
      false,
      { cause: error },
    );
  }
  return new ProcessingError("internal", "Reading the model failed unexpectedly; the job will be retried.", true, { cause: error });
}
