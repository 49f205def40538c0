// A tiny run of the workerd stream benchmark (bench/stream-workerd.mjs), so the script keeps
// working: a Worker reads the local stream through the package's workerd entry (storing the
// turn) and through the openai SDK, and the workerd process's CPU is read around each. No
// timing is asserted; the figures come from `node bench/stream-workerd.mjs` (bench/stream.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runWorkerdBench, table } from "../../bench/stream-workerd.mjs";

test("workerd stream benchmark: smoke run, ours vs the openai SDK on 500 chunks", async () => {
  const r = await runWorkerdBench({ chunks: 500, rounds: 1, warmup: 0 });
  assert.equal(r.chunks, 500);
  assert.ok(Number.isFinite(r.ours.cpuMs) && r.ours.cpuMs > 0, "the workerd process's CPU was read");
  assert.ok(r.sdk, "the openai SDK runs in workerd");
  assert.ok(Number.isFinite(r.sdk.cpuMs) && r.sdk.cpuMs > 0);
  assert.match(table(r), /CPU µs\/chunk/);
});
