// A tiny run of the stream benchmark (bench/stream.mjs), so the script keeps working: both
// consumers read the whole local stream and ours stores the turn (the benchmark checks both and
// throws otherwise). No timing is asserted; the figures come from `node bench/stream.mjs`
// (see bench/stream.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runStreamBench, table } from "../../bench/stream.mjs";

test("stream benchmark: smoke run, ours vs the openai SDK on 500 chunks", async () => {
  const r = await runStreamBench({ chunks: 500, rounds: 1, warmup: 0 });
  assert.equal(r.chunks, 500);
  for (const side of [r.ours, r.sdk]) {
    assert.ok(Number.isFinite(side.wallMs) && side.wallMs > 0);
    assert.ok(Number.isFinite(side.cpuMs) && side.cpuMs >= 0);
  }
  assert.ok(Number.isFinite(r.ratio.wall));
  assert.match(table(r), /ratio \(SDK time \/ ours/);
});
