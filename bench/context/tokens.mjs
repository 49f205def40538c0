// Measures the library's token estimator against real BPE tokenizers (gpt-tokenizer's o200k_base
// and cl100k_base, pinned in package.json) on the committed samples, one message per line.
// Writes samples/reference.json (the real counts the native test checks against) and prints the
// error table recorded in bench/context.md. Needs the built package (./scripts/build).
//   node bench/context/tokens.mjs
import { readFileSync, writeFileSync } from "node:fs";
import * as o200k from "gpt-tokenizer/encoding/o200k_base";
import * as cl100k from "gpt-tokenizer/encoding/cl100k_base";
import { SessionStore } from "agent-sessions";

const dir = new URL("./samples/", import.meta.url);
const OVERHEAD = 4; // MESSAGE_OVERHEAD_TOKENS: stored estimates include the message framing
const store = await SessionStore.open({ storage: { type: "memory" } });
const session = await store.create("tokens");
const reference = {};
const rows = [];
for (const kind of ["english", "code", "cjk"]) {
  const lines = readFileSync(new URL(`${kind}.txt`, dir), "utf8").split("\n").filter((l) => l.trim());
  const real = { o200k: lines.map((l) => o200k.encode(l).length), cl100k: lines.map((l) => cl100k.encode(l).length) };
  reference[kind] = real;
  let est = 0;
  const perLine = [];
  for (const [i, content] of lines.entries()) {
    const m = await session.addMessage({ role: "user", content });
    est += m.tokens - OVERHEAD;
    perLine.push((m.tokens - OVERHEAD) / real.o200k[i] - 1);
  }
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  const chars = sum(lines.map((l) => [...l].length));
  const pct = (e, r) => `${((e / r - 1) * 100).toFixed(1)}%`;
  const worst = perLine.filter((_, i) => real.o200k[i] >= 20).reduce((w, e) => (Math.abs(e) > Math.abs(w) ? e : w), 0);
  rows.push(`| ${kind} | ${lines.length} | ${chars} | ${sum(real.o200k)} | ${sum(real.cl100k)} | ${est} | ${pct(est, sum(real.o200k))} | ${pct(est, sum(real.cl100k))} | ${(worst * 100).toFixed(1)}% |`);
}
writeFileSync(new URL("reference.json", dir), JSON.stringify(reference) + "\n");
console.log("| sample | messages | chars | o200k | cl100k | estimate | error vs o200k | error vs cl100k | worst message ≥ 20 tokens vs o200k |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
