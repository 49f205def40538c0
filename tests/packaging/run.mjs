// Packaging tests: the package as users install it. `npm pack` of pkg/ (built by ./scripts/build)
// into a tarball, installed into fresh consumer projects made from the templates in consumers/
// under test-output/packaging/, each of which creates a session, chats twice with the offline mock
// provider and reads the history back:
//   Node ESM `import` and CJS `require` on every Node release the package claims (`engines`),
//   a Vite 8 app and a webpack 5 app in headless Chromium, a module Web Worker (Vite) in Chromium,
//   and a Worker bundled by wrangler (`deploy --dry-run`) and served by `wrangler dev`.
// The build tools come from tests/packaging/node_modules (pinned; scripts/setup installs them) and
// run on Node 24 from .tools/. Run: `node tests/packaging/run.mjs` or `./scripts/test packaging`
// (node:test; exit 1 on failure). The consumers are left in test-output/packaging/ to inspect.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, run, serveDir, startProcess, tripwireProxy } from "./support.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const out = path.join(root, "test-output", "packaging");
const tools = path.join(here, "node_modules", ".bin");
const toolsNode = path.join(root, ".tools/node_modules/node24/bin/node");

/** The Node releases the smoke runs use; together they must cover every range `engines` claims. */
const NODES = [
  { name: "20 (the machine's)", bin: "/usr/bin/node" },
  { name: "22.12.0 (the floor on 22)", bin: path.join(root, ".tools/node_modules/node22/bin/node") },
  { name: "24 (LTS)", bin: toolsNode },
  { name: "26 (newest)", bin: path.join(root, ".tools/node_modules/node26/bin/node") },
];

/** What the tarball must hold: every file the exports map names, and nothing else. */
const PACKED_FILES = [
  "agent_sessions.d.ts", // ./raw's types
  "agent_sessions.js", // the browser module's wasm-bindgen glue
  "agent_sessions_bg.wasm", // the browser module (no SQL, no server)
  "browser.js",
  "index.d.ts",
  "node.js",
  "package.json",
  "workerd.js",
  "sql-node.js", // the Node entry's SQL openers (node:sqlite, better-sqlite3, pg)
  // the server runtimes' module (the node and workerd entries, agent-sessions/server) and the bin
  "agent_sessions_server.js",
  "agent_sessions_server_bg.wasm",
  // its JS import (src/platform/records.js), where wasm-bindgen puts it: the directory is the
  // crate's name and a hash of its name and version
  ...readdirSync(path.join(root, "pkg/snippets"))
    .filter((d) => /^agent-sessions-[0-9a-f]{16}$/.test(d))
    .map((d) => `snippets/${d}/src/platform/records.js`),
  "cli.js",
  "server-config-file.js",
  "server-durable-object.js",
  "server-handler.js",
  "server-node-http.js",
  "server-node-storage.js",
  "server-node.js",
  "server-workerd.js",
  "server.d.ts",
  "server.js",
].sort();

// The scenario's conversation (consumers/scenario.js) with the mock provider, which answers from
// the history it is sent: the second reply shows the first turn was stored and sent back. Every
// runtime must store exactly this.
const EXPECTED_REPLY = "Your name is Sarah.";
const EXPECTED_HISTORY = [
  { role: "user", content: "My name is Sarah.", status: "complete" },
  { role: "assistant", content: "Nice to meet you, Sarah! I'll remember that.", status: "complete" },
  { role: "user", content: "What is my name?", status: "complete" },
  { role: "assistant", content: EXPECTED_REPLY, status: "complete" },
];

// The tools see only this environment: no telemetry, no update checks, no cf.json download, and a
// proxy that records any other attempt to reach the network (loopback bypasses it).
let tripwire;
const toolEnv = () => ({
  ...process.env,
  PATH: `${path.dirname(toolsNode)}:${process.env.PATH}`,
  HTTPS_PROXY: tripwire.url, HTTP_PROXY: tripwire.url, https_proxy: tripwire.url, http_proxy: tripwire.url,
  NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true", // the banner is what runs wrangler's npm update check
  CLOUDFLARE_CF_FETCH_ENABLED: "false", // miniflare's request.cf data, otherwise downloaded
  WRANGLER_LOG_PATH: path.join(out, "wrangler-logs"),
  WRANGLER_REGISTRY_PATH: path.join(out, "wrangler-registry"),
  XDG_CONFIG_HOME: path.join(out, "config"),
  NO_UPDATE_NOTIFIER: "1",
  npm_config_update_notifier: "false",
  BROWSERSLIST_IGNORE_OLD_DATA: "1",
});

let tarball;
let packed;

before(async () => {
  assert.ok(existsSync(path.join(root, "pkg/package.json")), "pkg/ is missing: run ./scripts/build first");
  assert.ok(existsSync(path.join(tools, "wrangler")), "tests/packaging/node_modules is missing: run ./scripts/setup");
  assert.ok(existsSync(toolsNode), ".tools/ has no Node 24: run ./scripts/setup");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  tripwire = await tripwireProxy();
  const { stdout } = await run("npm", ["pack", path.join(root, "pkg"), "--pack-destination", out, "--json", "--loglevel=error"], { cwd: out, env: toolEnv() });
  [packed] = JSON.parse(stdout);
  tarball = path.join(out, packed.filename);
});

after(async () => {
  await browser?.close();
  await tripwire?.close();
});

/** A fresh consumer project from consumers/<name>, with the tarball installed (offline: it has
 * no dependencies) and the scenario copied to `scenarioAs`. */
async function consumer(name, scenarioAs) {
  const dir = path.join(out, name);
  cpSync(path.join(here, "consumers", name), dir, { recursive: true });
  let scenario = readFileSync(path.join(here, "consumers/scenario.js"), "utf8");
  if (scenarioAs.endsWith(".cjs")) {
    scenario = scenario.replace("export async function runScenario", "async function runScenario") + "\nmodule.exports = { runScenario };\n";
  }
  writeFileSync(path.join(dir, scenarioAs), scenario);
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  manifest.dependencies = { "agent-sessions": `file:${path.relative(dir, tarball)}` };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, env: toolEnv(), timeoutMs: 60_000 });
  const installed = JSON.parse(readFileSync(path.join(dir, "node_modules/agent-sessions/package.json"), "utf8"));
  assert.equal(installed.version, packed.version, "the tarball is what got installed");
  assert.ok(!lstatSync(path.join(dir, "node_modules/agent-sessions")).isSymbolicLink(), "a copy of the tarball, not a link to pkg/");
  return dir;
}

function assertScenario(result, where) {
  assert.equal(result.error, undefined, `${where}: ${result.error}`);
  assert.deepEqual(result.exports, ["Agent", "Run", "Session", "SessionStore"], where);
  assert.equal(result.sessionId, "packaging-check", where);
  assert.equal(result.reply, EXPECTED_REPLY, where);
  assert.deepEqual(result.history, EXPECTED_HISTORY, `${where}: the stored conversation, read back`);
}

test("the tarball holds exactly the package's files, and its exports map only names shipped files", () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, PACKED_FILES);
  const manifest = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8"));
  const targets = [];
  const walk = (v) => (typeof v === "string" ? targets.push(v) : Object.values(v).forEach(walk));
  walk(manifest.exports);
  targets.push(manifest.types, ...manifest.sideEffects, ...Object.values(manifest.bin ?? {}));
  for (const t of targets) assert.ok(files.includes(t.replace(/^\.\//, "")), `${t} is named but not shipped`);
  // A named JS file's relative imports (the server entries' own modules) count as named too.
  for (let k = 0; k < targets.length; k++) {
    if (!targets[k].endsWith(".js")) continue;
    const text = readFileSync(path.join(root, "pkg", targets[k]), "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.\/[^"']+)["']/g)) {
      if (!targets.includes(m[1])) targets.push(m[1]);
    }
  }
  for (const f of files) assert.ok(f === "package.json" || targets.includes(`./${f}`), `${f} is shipped but nothing names or imports it`);
  assert.equal(packed.name, "agent-sessions");
  assert.equal(packed.entryCount, PACKED_FILES.length);
});

// A tiny reader of the two forms `engines` uses here (`^x.y.z`, `>=x.y.z`, joined by `||`).
function satisfies(version, range) {
  const v = version.replace(/^v/, "").split(".").map(Number);
  const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return range.split("||").some((clause) => {
    const m = /^\s*(\^|>=)(\d+)\.(\d+)\.(\d+)\s*$/.exec(clause);
    assert.ok(m, `engines clause ${clause} is not one this test reads`);
    const floor = [Number(m[2]), Number(m[3]), Number(m[4])];
    return cmp(v, floor) >= 0 && (m[1] === ">=" || v[0] === floor[0]);
  });
}

test("Node: ESM import and CJS require of the installed package on every claimed release", async (t) => {
  const engines = JSON.parse(readFileSync(path.join(root, "pkg/package.json"), "utf8")).engines.node;
  const esm = await consumer("node-esm", "scenario.js");
  const cjs = await consumer("node-cjs", "scenario.cjs");
  const tested = [];
  for (const node of NODES) {
    await t.test(`Node ${node.name}`, async () => {
      assert.ok(existsSync(node.bin), `${node.bin} is missing (scripts/setup installs it)`);
      const version = (await run(node.bin, ["--version"])).stdout.trim();
      assert.ok(satisfies(version, engines), `${version} is outside engines ${engines}`);
      tested.push(version);
      for (const [dir, main] of [[esm, "main.mjs"], [cjs, "main.cjs"]]) {
        const { stdout } = await run(node.bin, [main], { cwd: dir, env: toolEnv(), timeoutMs: 30_000 });
        const result = JSON.parse(stdout.trim().split("\n").pop());
        assertScenario(result, `${main} on ${version}`);
        assert.equal(result.node, version);
        assert.equal(result.resolved.replace(/^file:\/\//, ""), path.join(dir, "node_modules/agent-sessions/node.js"), "the `node` condition");
      }
    });
  }
  // Every `||` clause of engines has a release under test.
  for (const clause of engines.split("||")) {
    assert.ok(tested.some((v) => satisfies(v, clause)), `nothing tested under engines clause ${clause.trim()}`);
  }
});

// ---- Chromium (system /usr/bin/chromium through playwright-core, as tests/e2e do)
let browser;
let seen; // what the page being tested did; one app at a time
async function chromiumPage() {
  if (!browser) {
    const { launch } = await import("../e2e/browser.mjs");
    const { context, userDataDir } = await launch();
    browser = { context, close: async () => { await context.close(); rmSync(userDataDir, { recursive: true, force: true }); } };
    // On the context, so a worker's requests count too.
    context.on("response", (r) => {
      if (new URL(r.url()).pathname.endsWith(".wasm")) seen.wasm.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] });
    });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(seen.origin + "/")) return route.continue();
      seen.offOrigin.push(url);
      return route.abort();
    });
  }
  const page = await browser.context.newPage();
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && seen.errors.push(m.text()));
  return page;
}

/** Opens the built app in `dist` and returns what its scenario reported. */
async function runInChromium(dist) {
  const server = await serveDir(dist);
  seen = { origin: server.origin, errors: [], wasm: [], offOrigin: [] };
  const page = await chromiumPage();
  try {
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => window.packagingResult !== undefined, null, { timeout: 30_000 });
    const result = await page.evaluate(() => window.packagingResult);
    return { result, seen };
  } finally {
    await page.close();
    await server.close();
  }
}

function assertBuiltApp(dist, result, seen, where) {
  assertScenario(result, where);
  assert.deepEqual(seen.errors, [], `${where}: no page errors`);
  assert.deepEqual(seen.offOrigin, [], `${where}: nothing requested off the app's origin`);
  assert.equal(seen.wasm.length, 1, `${where}: the module is fetched once`);
  assert.equal(seen.wasm[0].status, 200);
  assert.equal(seen.wasm[0].type, "application/wasm");
  const emitted = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith(".wasm"));
  assert.equal(emitted.length, 1, `${where}: the bundler emitted the .wasm once (${emitted})`);
}

test("Vite 8: `vite build` of an app, run in headless Chromium (IndexedDB, read back by a second store)", async () => {
  const dir = await consumer("vite", "scenario.js");
  await run(path.join(tools, "vite"), ["build"], { cwd: dir, env: toolEnv() });
  const dist = path.join(dir, "dist");
  const { result, seen } = await runInChromium(dist);
  assertBuiltApp(dist, result, seen, "vite app");
});

test("webpack 5: a production build, run in headless Chromium", async () => {
  const dir = await consumer("webpack", "src/scenario.js");
  await run(path.join(tools, "webpack"), ["--config", "webpack.config.cjs"], { cwd: dir, env: toolEnv() });
  const dist = path.join(dir, "dist");
  cpSync(path.join(dir, "index.html"), path.join(dist, "index.html"));
  const { result, seen } = await runInChromium(dist);
  assertBuiltApp(dist, result, seen, "webpack app");
});

test("module Web Worker (bundled by Vite, worker.format es) in headless Chromium", async () => {
  const dir = await consumer("web-worker", "scenario.js");
  await run(path.join(tools, "vite"), ["build"], { cwd: dir, env: toolEnv() });
  const dist = path.join(dir, "dist");
  const { result, seen } = await runInChromium(dist);
  assert.equal(result.inWorker, true, "the scenario ran inside the worker");
  assertBuiltApp(dist, result, seen, "module worker");
});

test("Worker: bundled by wrangler, served by `wrangler dev` (Durable Object storage), over HTTP", async () => {
  const dir = await consumer("worker", "src/scenario.js");
  const env = toolEnv();
  // The deploy bundle: the workerd entry, with the .wasm as its own module next to the script.
  await run(path.join(tools, "wrangler"), ["deploy", "--dry-run", "--outdir", "bundle"], { cwd: dir, env });
  const bundled = readdirSync(path.join(dir, "bundle"));
  assert.ok(bundled.includes("index.js"), `bundle: ${bundled}`);
  assert.equal(bundled.filter((f) => f.endsWith(".wasm")).length, 1, `bundle: ${bundled}`);
  assert.match(readFileSync(path.join(dir, "bundle/index.js"), "utf8"), /initSync/, "the workerd entry is the one bundled");

  // Ports are chosen just before the start; one taken in between by another process of this
  // shared machine is the only failure that earns a new attempt (with new ports).
  let dev;
  let origin;
  for (let attempt = 1; !origin; attempt++) {
    const port = await freePort();
    const inspector = await freePort();
    dev = startProcess(path.join(tools, "wrangler"), [
      "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
      "--show-interactive-dev-session=false", "--persist-to", path.join(dir, "state"), "--log-level", "info",
    ], { cwd: dir, env, ready: /Ready on (http:\/\/127\.0\.0\.1:\d+)/ });
    try {
      [, origin] = await dev.started;
    } catch (e) {
      await dev.stop();
      if (attempt < 3 && /EADDRINUSE|address already in use/i.test(dev.output())) continue;
      throw e;
    }
  }
  try {
    const post = await fetch(`${origin}/chat`, { method: "POST", signal: AbortSignal.timeout(30_000) });
    const result = await post.json();
    assert.equal(post.status, 200, JSON.stringify(result));
    assertScenario(result, "wrangler dev");
    // A later request, a new store over the Durable Object's storage.
    const later = await fetch(`${origin}/history`, { signal: AbortSignal.timeout(30_000) });
    const { history } = await later.json();
    assert.deepEqual(history, result.history, "the conversation outlives the request that made it");
  } finally {
    await dev.stop();
  }
});

test("bin: `agent-sessions serve` of the installed package, YAML config, answers over HTTP (Node 24)", async () => {
  const dir = await consumer("node-esm", "scenario.js");
  writeFileSync(path.join(dir, "config.yaml"), [
    "llms:", "  mock: { type: mock }",
    "session_stores:", "  main: { backend: sql, sql: { driver: sqlite, database: ./data/sessions.db } }",
    "agents:", "  assistant: { llm: mock, session_store: main }",
    "auth:", "  tenants:", "    a: { tokens: [\"${TOKEN_A}\"] }", "",
  ].join("\n"));
  const bin = path.join(dir, "node_modules/.bin/agent-sessions");
  assert.ok(existsSync(bin), "npm linked the bin");
  const srv = startProcess(bin, ["serve", "--config", "config.yaml", "--port", "0"], {
    cwd: dir, env: { ...toolEnv(), TOKEN_A: "packaging-token-a" }, ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  try {
    const [, origin] = await srv.started;
    const headers = { authorization: "Bearer packaging-token-a", "content-type": "application/json" };
    const base = `${origin}/agents/assistant/sessions`;
    const created = await (await fetch(base, { method: "POST", headers })).json();
    for (const message of ["My name is Sarah.", "What is my name?"]) {
      const r = await fetch(`${base}/${created.session_id}/messages`, { method: "POST", headers, body: JSON.stringify({ message }) });
      assert.equal(r.status, 200);
      if (message.startsWith("What")) assert.equal((await r.json()).message.content, EXPECTED_REPLY);
    }
    const { messages } = await (await fetch(`${base}/${created.session_id}/messages`, { headers })).json();
    assert.deepEqual(messages.map((m) => ({ role: m.role, content: m.content, status: m.status })), EXPECTED_HISTORY);
    assert.equal((await fetch(base)).status, 401);
  } finally {
    await srv.stop();
  }
  assert.ok(existsSync(path.join(dir, "data/sessions.db")), "sessions in the configured SQLite file");
});

test("no tool reached for the network (every request through the tripwire proxy is recorded)", () => {
  assert.deepEqual(tripwire.hits, []);
});
