// A streamed reply of 20,000 chunks in Node, read two ways from the same local OpenAI-compatible
// SSE server (bench/stream-server.mjs, in a child process so its CPU is not counted):
// - ours: `agent.stream()` of an `openai`-provider Agent on memory storage, which also stores the
//   turn (the user message, the assistant reply as it grows and complete at the end, the run);
// - the reference: the `openai` npm SDK (the exact devDependency) reading the same stream with
//   `chat.completions.create({ stream: true })`, storing nothing.
// Both consumers append every delta's text to a string. Rounds are interleaved (the order flips
// every round) after warm-up rounds; each figure is the median over the rounds of wall time and
// of this process's CPU time (user + system) for one whole reply.
//
//   node bench/stream.mjs                      (after ./scripts/build)
//   CHUNKS=500 ROUNDS=1 WARMUP=0 node bench/stream.mjs   (what the smoke test runs)
//
// Prints a Markdown table and the ratios; bench/stream.md records a run.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { Agent } from "agent-sessions";
import { spawnStreamServer } from "./stream-server.mjs";

const sdkVersion = JSON.parse(readFileSync(new URL("../node_modules/openai/package.json", import.meta.url), "utf8")).version;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs the benchmark; resolves to `{ chunks, rounds, ours: { wallMs, cpuMs }, sdk: {…}, ratio }`
 * where each figure is a median and `ratio` is the SDK's time over ours (> 1: ours is faster). */
export async function runStreamBench({ chunks = 20_000, rounds = 9, warmup = 3, log = () => {} } = {}) {
  const server = await spawnStreamServer(chunks);
  const baseUrl = `http://127.0.0.1:${server.port}/v1`;
  try {
    const agent = new Agent({
      name: "bench",
      llm: { provider: "openai", model: "gpt-4o-mini", apiKey: "sk-bench", baseUrl },
      storage: { type: "memory" },
    });
    await agent.start();
    const client = new OpenAI({ apiKey: "sk-bench", baseURL: baseUrl, maxRetries: 0 });
    let n = 0;

    async function ours() {
      const session = await agent.createSession(`bench-${n++}`);
      let text = "";
      let deltas = 0;
      let done = null;
      const t = performance.now();
      const c = cpuMs();
      for await (const ev of agent.stream("Say hello many times.", { sessionId: session.id })) {
        if (ev.type === "delta") {
          text += ev.text;
          deltas++;
        } else if (ev.type === "done") done = ev.result;
      }
      const wall = performance.now() - t;
      const cpu = cpuMs() - c;
      // Checked outside the timing: the whole reply was streamed and is stored, complete.
      if (deltas !== chunks || text.length !== server.chars) throw new Error(`ours: ${deltas} deltas, ${text.length} chars`);
      if (!done || done.content !== text) throw new Error("ours: done.result.content differs from the deltas");
      const history = await agent.getSessionHistory(session.id);
      const last = history.at(-1);
      if (history.length !== 2 || last.role !== "assistant" || last.status !== "complete" || last.content !== text) {
        throw new Error("ours: the turn is not stored as a complete reply");
      }
      await agent.deleteSession(session.id);
      return { wall, cpu };
    }

    async function sdk() {
      let text = "";
      let deltas = 0;
      const t = performance.now();
      const c = cpuMs();
      const stream = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Say hello many times." }],
        stream: true,
      });
      for await (const chunk of stream) {
        const d = chunk.choices[0]?.delta?.content;
        if (d) {
          text += d;
          deltas++;
        }
      }
      const wall = performance.now() - t;
      const cpu = cpuMs() - c;
      if (deltas !== chunks || text.length !== server.chars) throw new Error(`sdk: ${deltas} deltas, ${text.length} chars`);
      return { wall, cpu };
    }

    for (let i = 0; i < warmup; i++) {
      await ours();
      await sdk();
    }
    const mine = [];
    const theirs = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? [ours, sdk] : [sdk, ours];
      for (const f of order) (f === ours ? mine : theirs).push(await f());
      log(`round ${i + 1}: ours ${mine.at(-1).wall.toFixed(1)} ms, sdk ${theirs.at(-1).wall.toFixed(1)} ms`);
    }
    const fig = (xs) => ({ wallMs: median(xs.map((x) => x.wall)), cpuMs: median(xs.map((x) => x.cpu)) });
    const o = fig(mine);
    const s = fig(theirs);
    return {
      chunks,
      rounds,
      node: process.version,
      sdkVersion,
      ours: o,
      sdk: s,
      ratio: { wall: s.wallMs / o.wallMs, cpu: s.cpuMs / o.cpuMs },
    };
  } finally {
    await server.close();
  }
}

export function table(r) {
  const us = (ms) => ((ms * 1000) / r.chunks).toFixed(2);
  return [
    `${r.chunks} chunks, median of ${r.rounds} interleaved rounds, Node ${r.node}`,
    "",
    "| consumer | wall ms | CPU ms | CPU µs/chunk |",
    "|---|---|---|---|",
    `| ours: agent.stream(), turn stored | ${r.ours.wallMs.toFixed(1)} | ${r.ours.cpuMs.toFixed(1)} | ${us(r.ours.cpuMs)} |`,
    `| openai ${sdkVersion} SDK, nothing stored | ${r.sdk.wallMs.toFixed(1)} | ${r.sdk.cpuMs.toFixed(1)} | ${us(r.sdk.cpuMs)} |`,
    "",
    `ratio (SDK time / ours; > 1 means ours is faster): wall ${r.ratio.wall.toFixed(2)}×, CPU ${r.ratio.cpu.toFixed(2)}×`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runStreamBench({
    chunks: Number(process.env.CHUNKS ?? 20_000),
    rounds: Number(process.env.ROUNDS ?? 9),
    warmup: Number(process.env.WARMUP ?? 3),
    log: (line) => console.error(line),
  });
  console.log(table(r));
}
