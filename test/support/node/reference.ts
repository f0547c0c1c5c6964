import { readFileSync } from "node:fs";
import { fixturesDir } from "../../setup/fixture-server.ts";

export interface Reference {
  file: string;
  schema: string;
  entities: number;
  materials: [string, number][];
  storeys: string[];
  counts: Record<string, number>;
}

/** A fixture's reference numbers from expected.jsonl. */
export function referenceFor(file: string): Reference {
  const lines = readFileSync(`${fixturesDir}/expected.jsonl`, "utf8").split("\n").filter((line) => line.trim() !== "");
  const found = lines.map((line) => JSON.parse(line) as Reference).find((model) => model.file === file);
  if (!found) throw new Error(`${file} is not in expected.jsonl`);
  return found;
}

export const fixturePath = (file: string): string => `${fixturesDir}/${file}`;
