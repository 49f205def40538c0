// A tiny run of the SQL benchmark (bench/sql.mjs), so the script keeps working: every row is
// printed with finite figures, and each side's restore read back every message (the script
// throws otherwise). The recorded measurements come from `node bench/sql.mjs` (bench/sql.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { here } from "./helpers.mjs";

const skip = process.env.AGENT_SESSIONS_SQLITE === "node:sqlite" && "the benchmark uses better-sqlite3";

test("SQL benchmark: smoke run of 50 appends and one restore per driver", { skip }, () => {
  const out = execFileSync(process.execPath, [path.join(here, "../../bench/sql.mjs")], {
    env: { ...process.env, RUNS: "1", N: "50" },
    encoding: "utf8",
    timeout: 120_000,
  });
  const rows = out.split("\n").filter((l) => /^\| (better-sqlite3|PostgreSQL)/.test(l));
  assert.equal(rows.length, 3, out);
  for (const row of rows) {
    const cells = row.split("|").slice(2, -1).map((c) => parseFloat(c.replace(/[*×]/g, "")));
    assert.equal(cells.length, 6, row);
    for (const c of cells) assert.ok(Number.isFinite(c) && c > 0, row);
  }
});
