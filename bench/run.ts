// `npm run bench [-- name ...]`: runs the named benchmarks (all by default), each printing a table.
import { benchmarks } from "./registry.ts";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !benchmarks.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`);
  process.exit(2);
}
for (const bench of benchmarks) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  console.log(`\n== ${bench.name}: ${bench.description}`);
  await bench.run();
}
