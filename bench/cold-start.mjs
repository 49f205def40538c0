// Cold start: what a new process, page or Worker pays before its first session.
//
//   node bench/cold-start.mjs             (after ./scripts/build; ROUNDS=11 by default)
//   ROUNDS=1 node bench/cold-start.mjs    (what tests/js/cold-start-smoke.test.mjs runs once)
//   BASE=/tmp/base-pkg node bench/cold-start.mjs
//                                         (the Node figures also for another build's pkg/, e.g. a
//                                         copy of main's, in the same interleaved rounds, with
//                                         the ratio of the headline figure: a change side by side)
//
// - Node: a fresh process per round and per figure (the package imported by name, as a user
//   does): `import("agent-sessions")` (read, compile and instantiate the module: the Node entry
//   does it at import), then `SessionStore.open({ storage: { type: "memory" } })` and the first
//   `create()`; beside it, in fresh processes too, the parts alone: compiling the module's bytes
//   (`new WebAssembly.Module`, what the entry does, and `WebAssembly.compile`), and importing the
//   glue without instantiating anything. Each Node on this machine that the project tests on
//   (the running one, and Node 22, 24 and 26 from .tools when present).
// - Chromium (playwright-core, the system Chromium, its own temporary profile): a fresh browser
//   context per round; in the
//   page, the module's bytes already fetched, `WebAssembly.compile`, then the glue's `init` with
//   that module (instantiate), then open + first create(); for the browser module and the
//   storage-only module.
// - workerd (miniflare): the runtime compiles a Worker's `.wasm` module itself when it loads the
//   Worker, and a Worker's clocks do not move while it computes, so this is measured from
//   outside: a new Miniflare with a Worker that imports the package's workerd entry and answers
//   its first request with a created session, against the same Worker without the package; the
//   difference is the module's compile + instantiate + first create().
//
// Rounds are interleaved (each round runs every figure once); medians are printed as Markdown.
// bench/cold-start.md records a run.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 11);
const ONLY = (process.env.ONLY ?? "node,chromium,workerd").split(",");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => x.toFixed(1);

// --- Node: one fresh process per figure and round --------------------------------------------
// The scripts for a package directory `pkg` (this build's pkg/, or BASE's copy).
const childScripts = (pkg) => {
  const serverWasm = path.join(pkg, "agent_sessions_server_bg.wasm");
  return {
  // The figure of the issue: import + init + first create(), from the process's first line. The
  // create() as a user first writes it, with a generated id: that takes the random source's
  // first bytes (a caller-chosen id would not).
  full: `
    const t0 = performance.now();
    const { SessionStore } = await import("agent-sessions");
    const t1 = performance.now();
    const store = await SessionStore.open({ storage: { type: "memory" } });
    const t2 = performance.now();
    const s = await store.create();
    const t3 = performance.now();
    if (!/^sess_[0-9a-f]{32}$/.test(s.id)) throw new Error("create() returned no generated id");
    console.log(JSON.stringify({ boot: t0, import: t1 - t0, open: t2 - t1, create: t3 - t2, total: t3 - t0 }));`,
  compileSync: `
    import { readFileSync } from "node:fs";
    const bytes = readFileSync(${JSON.stringify(serverWasm)});
    const t0 = performance.now();
    new WebAssembly.Module(bytes);
    console.log(JSON.stringify({ compileSync: performance.now() - t0 }));`,
  compileAsync: `
    import { readFileSync } from "node:fs";
    const bytes = readFileSync(${JSON.stringify(serverWasm)});
    const t0 = performance.now();
    await WebAssembly.compile(bytes);
    console.log(JSON.stringify({ compileAsync: performance.now() - t0 }));`,
  // What any first dynamic import costs in a fresh process (Node's ESM loader), for scale.
  loader: `
    const t0 = performance.now();
    await import("data:text/javascript,export default 1");
    console.log(JSON.stringify({ loader: performance.now() - t0 }));`,
  glue: `
    const t0 = performance.now();
    await import(${JSON.stringify(pathToFileURL(path.join(pkg, "agent_sessions_server.js")).href)});
    console.log(JSON.stringify({ glue: performance.now() - t0 }));`,
  };
};

// Where each package is run from: the repository (node_modules/agent-sessions is pkg/), and for
// BASE a temporary directory whose node_modules/agent-sessions is BASE.
function packages() {
  const list = [["", root, path.join(root, "pkg")]];
  if (process.env.BASE) {
    const base = path.resolve(process.env.BASE);
    const dir = mkdtempSync(path.join(tmpdir(), "cold-start-base-"));
    mkdirSync(path.join(dir, "node_modules"));
    symlinkSync(base, path.join(dir, "node_modules", "agent-sessions"), "dir");
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    list.push([` — BASE (${base})`, dir, base]);
  }
  return list;
}

function nodes() {
  const list = [[`Node ${process.version}`, process.execPath]];
  // The releases scripts/setup installs into .tools/ (22, 24: the one the test suites run on, 26),
  // each unless it is the running one.
  for (const major of [22, 24, 26]) {
    const bin = path.join(root, `.tools/node_modules/node${major}/bin/node`);
    if (!existsSync(bin)) continue;
    const v = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
    if (v !== process.version) list.push([`Node ${v}`, bin]);
  }
  return list;
}

function runChild(node, script, cwd) {
  const out = execFileSync(node, ["--no-warnings", "--input-type=module", "-e", script], {
    cwd, encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop());
}

const ratios = [];
async function nodeFigures() {
  const lines = [
    "| Node | import + open + first create() | of which import (read, compile, instantiate) | open | create | compile alone: `new WebAssembly.Module` | `WebAssembly.compile` | glue import alone | an empty module's import (the loader) | process boot before the first line |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const pkgs = packages();
  for (const [label, bin] of nodes()) {
    const got = pkgs.map(() => ({}));
    for (let r = 0; r < ROUNDS; r++) {
      pkgs.forEach(([, cwd, pkg], i) => {
        for (const [name, script] of Object.entries(childScripts(pkg))) {
          for (const [k, v] of Object.entries(runChild(bin, script, cwd))) (got[i][k] ??= []).push(v);
        }
      });
    }
    pkgs.forEach(([suffix], i) => {
      const m = (k) => ms(median(got[i][k]));
      lines.push(`| ${label}${suffix} | **${m("total")} ms** | ${m("import")} | ${m("open")} | ${m("create")} | ${m("compileSync")} | ${m("compileAsync")} | ${m("glue")} | ${m("loader")} | ${m("boot")} |`);
    });
    if (pkgs.length > 1) ratios.push(`${label}: import + open + first create() ${ms(median(got[0].total))} ms here, ${ms(median(got[1].total))} ms BASE: ${(median(got[0].total) / median(got[1].total)).toFixed(2)}×`);
  }
  return lines;
}

// --- Chromium ----------------------------------------------------------------------------------
function servePkg() {
  const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end("<!doctype html><title>cold start</title>");
    }
    const file = path.join(root, "pkg", path.normalize(url.pathname).replace(/^[/\\]+/, ""));
    if (!file.startsWith(path.join(root, "pkg")) || !existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function chromiumFigures() {
  const { chromium } = await import("playwright-core");
  const server = await servePkg();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  const modules = [["browser module (`agent-sessions`)", "agent_sessions"], ["storage-only module (`agent-sessions/store`)", "agent_sessions_store"]];
  const got = Object.fromEntries(modules.map(([, m]) => [m, { compile: [], instantiate: [], first: [], total: [] }]));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [, name] of modules) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${origin}/`);
        const out = await page.evaluate(async (name) => {
          const bytes = await (await fetch(`/${name}_bg.wasm`)).arrayBuffer();
          const glue = await import(`/${name}.js`);
          const t0 = performance.now();
          const module = await WebAssembly.compile(bytes);
          const t1 = performance.now();
          await glue.default({ module_or_path: module });
          const t2 = performance.now();
          const store = await glue.SessionStore.open({ storage: { type: "memory" } });
          await store.create();
          const t3 = performance.now();
          return { compile: t1 - t0, instantiate: t2 - t1, first: t3 - t2, total: t3 - t0 };
        }, name);
        for (const k of Object.keys(out)) got[name][k].push(out[k]);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  const lines = [
    "| Chromium module | compile (`WebAssembly.compile`, bytes in hand) | instantiate (the glue's `init`) | open + first create() | total |",
    "|---|---|---|---|---|",
  ];
  for (const [label, name] of modules) {
    const g = got[name];
    lines.push(`| ${label} | ${ms(median(g.compile))} ms | ${ms(median(g.instantiate))} | ${ms(median(g.first))} | **${ms(median(g.total))} ms** |`);
  }
  return lines;
}

// --- workerd -------------------------------------------------------------------------------
async function workerdFigures() {
  const { Miniflare } = await import("miniflare");
  const { moduleWorkerOptions } = await import("../tests/support/workerd.mjs");
  const pkg = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
  const dir = path.join(root, "test-output", "cold-start");
  mkdirSync(dir, { recursive: true });
  const scripts = {
    library: `import { SessionStore } from "../../${path.posix.join("pkg", pkg.exports["."].workerd)}";
export default { async fetch() {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const { id } = await store.create();
  return new Response(/^sess_[0-9a-f]{32}$/.test(id) ? "first" : id);
} };`,
    baseline: `export default { async fetch() { return new Response("first"); } };`,
  };
  const got = { library: [], baseline: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, script] of Object.entries(scripts)) {
      const scriptPath = path.join(dir, `${name}.js`);
      writeFileSync(scriptPath, script);
      const t0 = performance.now();
      const mf = new Miniflare({ scriptPath, ...moduleWorkerOptions(root) });
      try {
        await mf.ready;
        const res = await mf.dispatchFetch("http://w/");
        if ((await res.text()) !== "first") throw new Error(`${name}: unexpected answer`);
        got[name].push(performance.now() - t0);
      } finally {
        await mf.dispose();
      }
    }
  }
  const [lib, base] = [median(got.library), median(got.baseline)];
  return [
    "| workerd (miniflare) | new Miniflare → first response, with the package | the same Worker without it | difference: load (compile + instantiate) + first create() |",
    "|---|---|---|---|",
    `| server module (\`agent-sessions\` workerd entry) | ${ms(lib)} ms | ${ms(base)} ms | **${ms(lib - base)} ms** |`,
  ];
}

const out = [`Cold start, median of ${ROUNDS} rounds; ${new Date().toISOString().slice(0, 10)}; bench/cold-start.mjs`, ""];
if (ONLY.includes("node")) out.push(...(await nodeFigures()), "", ...(ratios.length ? [...ratios, ""] : []));
if (ONLY.includes("chromium")) out.push(...(await chromiumFigures()), "");
if (ONLY.includes("workerd")) out.push(...(await workerdFigures()), "");
console.log(out.join("\n"));
