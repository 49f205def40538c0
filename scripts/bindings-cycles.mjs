// Fails when the modules of src/bindings/ import each other in a cycle (a `super::x` path from
// one file to a sibling is an edge). The binding layer only converts: a cycle there is a sign
// that a decision grew into it. Run by scripts/lint.
import { readdirSync, readFileSync } from "node:fs";

const dir = new URL("../src/bindings/", import.meta.url);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith(".rs") && f !== "mod.rs")
  .map((f) => f.slice(0, -3));
const edges = new Map();
for (const m of modules) {
  const text = readFileSync(new URL(`${m}.rs`, dir), "utf8");
  const used = new Set([...text.matchAll(/\bsuper::([a-z_]+)/g)].map((x) => x[1]));
  for (const x of text.matchAll(/\bcrate::bindings::([a-z_]+)/g)) used.add(x[1]);
  edges.set(m, [...used].filter((u) => u !== m && modules.includes(u)));
}

const cycles = [];
const state = new Map(); // 1 = on the current path, 2 = done
const path = [];
function visit(m) {
  state.set(m, 1);
  path.push(m);
  for (const n of edges.get(m)) {
    if (state.get(n) === 1) cycles.push([...path.slice(path.indexOf(n)), n].join(" -> "));
    else if (!state.has(n)) visit(n);
  }
  path.pop();
  state.set(m, 2);
}
for (const m of modules) if (!state.has(m)) visit(m);

if (cycles.length) {
  console.error(`import cycles among src/bindings modules:\n  ${cycles.join("\n  ")}`);
  process.exit(1);
}
console.log(`src/bindings: ${modules.length} modules, no import cycle`);
