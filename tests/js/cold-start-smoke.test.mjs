// A single round of the cold-start benchmark (bench/cold-start.mjs), so the script keeps working
// in all three places it measures: fresh Node processes, Chromium pages and workerd. Nothing here
// looks at how long anything took; the recorded figures come from `node bench/cold-start.mjs`
// (bench/cold-start.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../bench/cold-start.mjs", import.meta.url));

test("cold-start benchmark: one round in Node, Chromium and workerd", () => {
  const out = execFileSync(process.execPath, [script], {
    env: { ...process.env, ROUNDS: "1" },
    encoding: "utf8",
    timeout: 180_000,
  });
  const rows = (start) => out.split("\n").filter((l) => l.startsWith(`| ${start}`));
  const figures = (row) => row.split("|").slice(2, -1).map((c) => parseFloat(c.replace(/[*`a-z ]/gi, "")));
  const node = rows("Node v");
  assert.ok(node.length >= 1, out);
  const chromium = [...rows("browser module"), ...rows("storage-only module")];
  assert.equal(chromium.length, 2, out);
  const workerd = rows("server module");
  assert.equal(workerd.length, 1, out);
  for (const row of [...node, ...chromium]) {
    for (const x of figures(row)) assert.ok(Number.isFinite(x) && x >= 0, row);
  }
  // workerd's figure is a difference of two medians: finite, of either sign in a noisy round.
  for (const x of figures(workerd[0])) assert.ok(Number.isFinite(x), workerd[0]);
});
