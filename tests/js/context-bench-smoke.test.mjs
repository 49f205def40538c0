// A tiny run of the context build benchmark (bench/context/), so the script keeps working; the
// recorded measurements come from `node bench/context/run.mjs` (see bench/context.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import * as lib from "agent-sessions";
import { runBench } from "../../bench/context/build-bench.mjs";

test("context build benchmark: smoke run on 100 and 1,000 messages", async () => {
  const rows = await runBench(lib, { sizes: [100, 1000], builds: 10, now: () => performance.now() });
  assert.deepEqual(rows.map((r) => r.messages), [100, 1000]);
  assert.equal(rows[0].kept, 100, "a small session fits the 8k budget whole");
  assert.ok(rows[1].kept > 100 && rows[1].kept < 1000, `an 8k window of 1,000 messages: ${rows[1].kept}`);
  for (const r of rows) assert.ok(Number.isFinite(r.medianMs) && r.medianMs > 0);
});
