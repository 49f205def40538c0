// The stream benchmark inside workerd (through miniflare): one Worker reads the same local
// 20,000-chunk OpenAI SSE stream (bench/stream-server.mjs, in a child process) two ways, as
// bench/stream.mjs does in Node: `agent.stream()` of the package's workerd entry, storing the
// turn in memory, and the `openai` SDK (the exact devDependency, bundled for the Worker by
// esbuild), storing nothing. On Workers the bill is CPU time, and inside a Worker the clocks
// stand still while it computes, so the CPU is read from outside: the workerd process's
// on-CPU time (every thread's /proc/<pid>/task/*/schedstat, in ns) around each request. Rounds
// are interleaved (the order flips every round) after warm-up rounds; each figure is a median.
//
//   node bench/stream-workerd.mjs                       (after ./scripts/build; Linux only)
//   CHUNKS=500 ROUNDS=1 WARMUP=0 node bench/stream-workerd.mjs   (what the smoke test runs)
//
// Prints a Markdown table with the CPU per chunk; bench/stream.md records a run.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { moduleWorkerOptions } from "../tests/support/workerd.mjs";
import { spawnStreamServer } from "./stream-server.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sdkVersion = JSON.parse(readFileSync(path.join(root, "node_modules/openai/package.json"), "utf8")).version;

/** On-CPU nanoseconds of every thread of process `pid` so far. */
function cpuNs(pid) {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return total;
}

/** The workerd processes started by this process (miniflare's child). */
function workerdPids() {
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (comm.startsWith("workerd") && ppid === process.pid) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

const workerScript = (entry) => `
import { Agent } from "${entry}";
import OpenAI from "./openai-sdk.js";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const baseUrl = url.searchParams.get("base");
    const chunks = Number(url.searchParams.get("chunks"));
    const chars = Number(url.searchParams.get("chars"));
    try {
      let text = "";
      let deltas = 0;
      if (url.pathname === "/ours") {
        const agent = new Agent({ name: "bench", llm: { provider: "openai", model: "gpt-4o-mini", apiKey: "sk-bench", baseUrl } });
        const session = await agent.createSession();
        let done = null;
        for await (const ev of agent.stream("Say hello many times.", { sessionId: session.id })) {
          if (ev.type === "delta") { text += ev.text; deltas++; }
          else if (ev.type === "done") done = ev.result;
        }
        const last = (await agent.getSessionHistory(session.id)).at(-1);
        if (!done || done.content !== text || last.status !== "complete" || last.content !== text) {
          throw new Error("the turn is not stored as a complete reply");
        }
      } else if (url.pathname === "/sdk") {
        const client = new OpenAI({ apiKey: "sk-bench", baseURL: baseUrl, maxRetries: 0 });
        const stream = await client.chat.completions.create({
          model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello many times." }], stream: true,
        });
        for await (const chunk of stream) {
          const d = chunk.choices[0]?.delta?.content;
          if (d) { text += d; deltas++; }
        }
      } else {
        return new Response("not found", { status: 404 });
      }
      if (deltas !== chunks || text.length !== chars) throw new Error(deltas + " deltas, " + text.length + " chars");
      return Response.json({ deltas, chars: text.length });
    } catch (e) {
      return Response.json({ error: String(e?.stack ?? e), code: e?.code }, { status: 500 });
    }
  },
};
`;

/** Runs the benchmark; resolves to `{ chunks, rounds, ours: { cpuMs, wallMs }, sdk, ratio }`
 * (medians per reply; `sdk` is null when the SDK does not run in workerd). */
export async function runWorkerdBench({ chunks = 20_000, rounds = 9, warmup = 3, log = () => {} } = {}) {
  const dir = path.join(root, "test-output", "stream-bench");
  mkdirSync(dir, { recursive: true });
  await build({
    stdin: { contents: 'export { default } from "openai";', resolveDir: root, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: path.join(dir, "openai-sdk.js"),
    logLevel: "warning",
  });
  const pkg = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
  const entry = "../../" + path.posix.join("pkg", pkg.exports["."].workerd);
  const scriptPath = path.join(dir, "worker.js");
  writeFileSync(scriptPath, workerScript(entry));

  const server = await spawnStreamServer(chunks);
  const before = new Set(workerdPids());
  const mf = new Miniflare({ scriptPath, ...moduleWorkerOptions(root) });
  try {
    await mf.ready;
    const pids = workerdPids().filter((p) => !before.has(p));
    if (pids.length !== 1) throw new Error(`expected one workerd process of this run, found ${pids.length}`);
    const [pid] = pids;
    const query = `base=${encodeURIComponent(`http://127.0.0.1:${server.port}/v1`)}&chunks=${chunks}&chars=${server.chars}`;
    let sdkRuns = true;
    const one = async (which) => {
      const c = cpuNs(pid);
      const t = performance.now();
      const res = await mf.dispatchFetch(`http://bench/${which}?${query}`);
      const body = await res.json();
      const wall = performance.now() - t;
      const cpu = (cpuNs(pid) - c) / 1e6;
      if (res.status !== 200) {
        if (which === "sdk") {
          sdkRuns = false;
          log(`the openai SDK failed in workerd: ${body.error}`);
          return null;
        }
        throw new Error(`ours failed in workerd: ${body.error}`);
      }
      return { cpu, wall };
    };
    for (let i = 0; i < warmup; i++) {
      await one("ours");
      if (sdkRuns) await one("sdk");
    }
    const mine = [];
    const theirs = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? ["ours", "sdk"] : ["sdk", "ours"];
      for (const which of order) {
        if (which === "sdk" && !sdkRuns) continue;
        const r = await one(which);
        if (r) (which === "ours" ? mine : theirs).push(r);
      }
      log(`round ${i + 1}: ours ${mine.at(-1).cpu.toFixed(1)} ms CPU` + (theirs.length ? `, sdk ${theirs.at(-1).cpu.toFixed(1)} ms CPU` : ""));
    }
    const fig = (xs) => (xs.length ? { cpuMs: median(xs.map((x) => x.cpu)), wallMs: median(xs.map((x) => x.wall)) } : null);
    const o = fig(mine);
    const s = fig(theirs);
    return { chunks, rounds, sdkVersion, ours: o, sdk: s, ratio: s ? { cpu: s.cpuMs / o.cpuMs, wall: s.wallMs / o.wallMs } : null };
  } finally {
    await mf.dispose();
    await server.close();
  }
}

export function table(r) {
  const us = (ms) => ((ms * 1000) / r.chunks).toFixed(1);
  const rows = [
    `${r.chunks} chunks in workerd (miniflare), median of ${r.rounds} interleaved rounds; CPU of the workerd process per reply`,
    "",
    "| consumer | CPU ms | CPU µs/chunk | wall ms |",
    "|---|---|---|---|",
    `| ours: agent.stream(), turn stored | ${r.ours.cpuMs.toFixed(1)} | ${us(r.ours.cpuMs)} | ${r.ours.wallMs.toFixed(1)} |`,
  ];
  if (r.sdk) {
    rows.push(`| openai ${r.sdkVersion} SDK, nothing stored | ${r.sdk.cpuMs.toFixed(1)} | ${us(r.sdk.cpuMs)} | ${r.sdk.wallMs.toFixed(1)} |`);
    rows.push("", `ratio (SDK / ours; > 1 means ours costs less): CPU ${r.ratio.cpu.toFixed(2)}×, wall ${r.ratio.wall.toFixed(2)}×`);
  } else {
    rows.push("", "(the openai SDK did not run in workerd)");
  }
  return rows.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runWorkerdBench({
    chunks: Number(process.env.CHUNKS ?? 20_000),
    rounds: Number(process.env.ROUNDS ?? 9),
    warmup: Number(process.env.WARMUP ?? 3),
    log: (line) => console.error(line),
  });
  console.log(table(r));
}
