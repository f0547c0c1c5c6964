import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/node/dev-server";

const src = join(projectRoot, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of a file (static, type-only, re-exports and dynamic), as files of src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1] ?? "");
  return specs.map((spec) => {
    const base = resolve(dirname(file), spec);
    for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not this candidate
      }
    }
    throw new Error(`${relative(projectRoot, file)} imports ${spec}, which does not exist`);
  });
}

const graph = new Map(sourceFiles(src).map((file) => [file, importsOf(file)]));
const area = (file: string): string => relative(src, file).split("/")[0] ?? "";

/** Strongly connected components of more than one file (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, indices.get(next) ?? 0));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(relative(projectRoot, member));
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

describe("source layout", () => {
  it("has no import cycle, type imports included", () => {
    expect(cycles()).toEqual([]);
  });

  it("keeps resilience/ and lib/ free of imports from the rest of src/", () => {
    const outward = [...graph].flatMap(([file, imports]) =>
      ["resilience", "lib"].includes(area(file))
        ? imports.filter((target) => area(target) !== area(file)).map((target) => `${relative(src, file)} -> ${relative(src, target)}`)
        : [],
    );
    expect(outward).toEqual([]);
  });

  it("keeps adapters and domain rooms free of HTTP code", () => {
    const inner = ["storage", "processing", "notify", "circuits", "resilience", "lib", "jobs", "projects", "ingest", "idempotency"];
    const http = ["http", "routes", "app.ts", "index.ts"];
    const offending = [...graph].flatMap(([file, imports]) =>
      inner.includes(area(file))
        ? imports.filter((target) => http.includes(area(target))).map((target) => `${relative(src, file)} -> ${relative(src, target)}`)
        : [],
    );
    expect(offending).toEqual([]);
  });

  it("keeps source files small, or says at the top why not", () => {
    const long = [...graph.keys()].filter((file) => {
      const text = readFileSync(file, "utf8");
      const lines = text.trimEnd().split("\n").length;
      const firstComment = /^\/\*\*?([^]*?)\*\//.exec(text)?.[1] ?? "";
      return lines > 260 && !firstComment.includes("longer than");
    });
    expect(long.map((file) => relative(projectRoot, file))).toEqual([]);
  });
});
