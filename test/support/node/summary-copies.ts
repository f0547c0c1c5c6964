import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "../../setup/fixture-server.ts";

export interface Reference {
  file: string;
  entities: number;
  materials: [string, number][];
  storeys: string[];
  counts: Record<string, number>;
}

export interface SummaryShape {
  entityCount: number;
  storeys: unknown[];
  counts: Record<string, number>;
  materials: { name: string; associatedObjects: number }[];
}

export function reference(file: string): Reference {
  const found = readFileSync(join(fixturesDir, "expected.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Reference)
    .find((model) => model.file === file);
  if (!found) throw new Error(`${file} is not in expected.jsonl`);
  return found;
}

/** The summary of N copies of a reference model is the reference with every number times N. */
export function copiesMismatches(summary: SummaryShape, ref: Reference, copies: number): string[] {
  const problems: string[] = [];
  if (summary.entityCount !== ref.entities * copies) problems.push(`entityCount ${summary.entityCount} != ${ref.entities * copies}`);
  if (summary.storeys.length !== ref.storeys.length * copies) problems.push(`storeys ${summary.storeys.length} != ${ref.storeys.length * copies}`);
  for (const [type, count] of Object.entries(ref.counts)) {
    if ((summary.counts[type] ?? 0) !== count * copies) problems.push(`${type} ${summary.counts[type] ?? 0} != ${count * copies}`);
  }
  const key = (pairs: [string, number][]) => pairs.map(([n, c]) => `${n}\u0000${c}`).sort().join("\n");
  const expected = ref.materials.flatMap((pair) => Array.from({ length: copies }, () => pair));
  if (key(summary.materials.map((m) => [m.name, m.associatedObjects])) !== key(expected)) problems.push("materials differ");
  return problems;
}
