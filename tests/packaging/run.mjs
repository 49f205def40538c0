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
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
  // agent-sessions/store: the storage-only module in browsers, its entry per runtime, its types
  "agent_sessions_store.js",
  "agent_sessions_store_bg.wasm",
  "store.js",
  "store-node.js",
  "store-workerd.js",
  "store.d.ts",
  // the server runtimes' module (the node and workerd entries, agent-sessions/server) and the bin
  "agent_sessions_server.js",
  "agent_sessions_server_bg.wasm",
  "cli.js",
  "server-a2a.js",
  "server-config-file.js",
  "server-durable-object.js",
  "server-handler.js",
  "server-node-http.js",
  "server-node-storage.js",
  "server-node.js",
  "server-workerd.js",
  "server.d.ts",
  "server.js",
  // the seeds' entries (agent-sessions/dexto, /praisonai, /ag-kit): one file of shapes each, a
  // file per runtime handing it that runtime's main entry, and the declarations
  ...["dexto", "praisonai", "ag-kit"].flatMap((s) => [`${s}.js`, `${s}.d.ts`, `${s}-node.js`, `${s}-browser.js`, `${s}-workerd.js`]),
  // agent-sessions/ai-sdk: one file for every runtime and its declarations (`ai` an optional peer)
  "ai-sdk.js", "ai-sdk.d.ts",
  "server-ai-sdk-stream.js", // the server's AI SDK mode (imports ai-sdk.js)
  // agent-sessions/openai-agents and /langchain: the same, over the adapters' shared module
  "adapter-common.js", "openai-agents.js", "openai-agents.d.ts", "langchain.js", "langchain.d.ts",
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

test("Vite 8: `vite build` of an app, run in headless Chromium (IndexedDB, read back by a second store; the seed entries too)", async () => {
  const dir = await consumer("vite", "scenario.js");
  await run(path.join(tools, "vite"), ["build"], { cwd: dir, env: toolEnv() });
  const dist = path.join(dir, "dist");
  const { result, seen } = await runInChromium(dist);
  assertBuiltApp(dist, result, seen, "vite app");
  // agent-sessions/praisonai, /ag-kit, /dexto in the same app, on the same module (fetched once).
  assert.deepEqual(result.seeds, {
    reply: EXPECTED_REPLY, reopened: ["user", "assistant", "user", "assistant"], alice: "Hello, I'm Alice", dexto: true,
  });
});

test("agent-sessions/store in a Vite app, headless Chromium: only the storage-only module is fetched, and it stores, reopens, exports and imports", async () => {
  const dir = await consumer("store", "unused-scenario.js");
  await run(path.join(tools, "vite"), ["build"], { cwd: dir, env: toolEnv() });
  const dist = path.join(dir, "dist");
  const { result, seen } = await runInChromium(dist);
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(seen.errors, [], "no page errors");
  assert.equal(seen.wasm.length, 1, "one module fetched");
  const emitted = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith(".wasm"));
  assert.equal(emitted.length, 1, `one .wasm emitted (${emitted})`);
  const storeWasm = readFileSync(path.join(root, "pkg/agent_sessions_store_bg.wasm"));
  assert.ok(readFileSync(path.join(dist, emitted[0])).equals(storeWasm), "the emitted module is the storage-only one");
  assert.deepEqual(result, {
    exports: ["Run", "Session", "SessionStore"],
    title: "Notes",
    metadata: { tier: "free" },
    history: ["user: My name is Sarah.", "assistant: Hello, Sarah."],
    runs: ["completed"],
    copied: 2,
    llmMethods: [],
    bad: { name: "AgentSessionsError", code: "INVALID_MESSAGE" },
  });
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

test("bin: `agent-sessions serve` of the installed package, YAML config, answers over HTTP (Node 24); `agent-sessions call` resumes a session on every supported Node (node:sqlite, or better-sqlite3 on Node 20)", async () => {
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

  // Hector's CLI from the same install, on every supported Node, with the SQLite driver the
  // README names for it: node:sqlite (22.5+ behind --experimental-sqlite, unflagged from 22.13),
  // better-sqlite3 on Node 20. Two `call`s with one --session in separate processes are one
  // conversation, and `sessions list` shows it. On Node 20 without better-sqlite3 the sqlite
  // store is refused in one line naming the config key and saying what to install; then
  // better-sqlite3 is added as `npm i better-sqlite3` would (a copy of the one built for this
  // machine's Node 20), and the later Nodes, for which that build cannot load, fall back to
  // node:sqlite.
  // The install is copied out of the repository first: under it, Node's module resolution would
  // find the repository's own node_modules (better-sqlite3, pg), which a user's install has not.
  const cliDir = mkdtempSync(path.join(tmpdir(), "agent-sessions-cli-"));
  process.on("exit", () => rmSync(cliDir, { recursive: true, force: true }));
  cpSync(dir, cliDir, { recursive: true, verbatimSymlinks: true });
  const cliBin = path.join(cliDir, "node_modules/.bin/agent-sessions");
  for (const n of NODES) {
    const major = Number((await run(n.bin, ["--version"])).stdout.trim().slice(1).split(".")[0]);
    const env = { ...toolEnv(), TOKEN_A: "packaging-token-a", NODE_OPTIONS: major === 22 ? "--experimental-sqlite --no-warnings" : "--no-warnings" };
    const cli = (...a) => run(n.bin, [cliBin, ...a, "--agent", "assistant", "--config", "config.yaml"], { cwd: cliDir, env, timeoutMs: 60_000 });
    const session = `cli-${major}`;
    if (major < 22) {
      const refused = await cli("call", "My name is Sarah.", "--session", session).then(() => null, (e) => e.message);
      assert.match(refused ?? "", /agent-sessions: config\.yaml: session_stores\.main\.sql\.driver: sqlite needs node:sqlite .* or the better-sqlite3 package \(npm i better-sqlite3\)/, `Node ${major}`);
      for (const m of ["better-sqlite3", "bindings", "file-uri-to-path"]) {
        cpSync(path.join(root, "node_modules", m), path.join(cliDir, "node_modules", m), { recursive: true });
      }
    }
    assert.equal((await cli("call", "My name is Sarah.", "--session", session)).stdout, "Nice to meet you, Sarah! I'll remember that.\n");
    assert.equal((await cli("call", "What is my name?", "--session", session)).stdout, `${EXPECTED_REPLY}\n`, `Node ${major}: the second process resumes`);
    assert.match((await cli("sessions", "list")).stdout, new RegExp(`^${session}\t4 messages\t`, "m"));
  }
});

// The seeds' snippets (consumers/seeds/000…003, transcribed: only the import lines and the
// provider settings differ, and lines marked `// test:`), each run as a program on Node 24 (type
// stripping) from the installed tarball against the mock LLM server over HTTP, their output
// compared line for line with what the seed says they print; the persistent ones run twice, as
// two processes, and the second remembers the first. Then tsc --strict over the same files.
const SEED_OUTPUT = {
  "000-dexto-working-with-sessions.ts": [
    "Your name is Sarah.",
    "I don't have that information.",
    "sess_…",
    "user-sarah-2024",
    "Echo: Show me a simple example. (turn 3)",
    "[user]: I want to build a REST API in Node.js....",
    "[assistant]: Echo: I want to build a REST API in Node.js. (turn 1)...",
    "[user]: What framework should I use?...",
    "[assistant]: Echo: What framework should I use? (turn 2)...",
    "[user]: Show me a simple example....",
    "[assistant]: Echo: Show me a simple example. (turn 3)...",
    "Active sessions: 3",
    "Session found",
    "test: demo after reset: 0 messages, exists: true",
    "test: demo after delete: null",
    "test: Your name is Sarah.",
    "test: What did I just say? | You haven't said anything before.",
    "test: sessions left: sess_…, user-sarah, user-sarah-2024, user-sarah-chat-c2",
  ],
  "001-dexto-sessions.ts": (second) => [
    "sess_…",
    "user-123",
    "test: Echo: What is React? (turn 1) / Echo: How does it differ from Vue? (turn 2)",
    "Active sessions: 2",
    "Session user-123 exists",
    "user: What is TypeScript?",
    "assistant: Echo: What is TypeScript? (turn 1)",
    "test: 0 messages",
    "test: null",
    'test: Echo: Hi! (turn 1) / Echo: Hello! (turn 1) / You said: "Hi!"',
    "test: You haven't said anything before.",
    "Starting new conversation...",
    "Resuming conversation...",
    ...(second
      ? ["test: Your name is Alice.", "test: Echo: Hello (turn 2)"]
      : ["test: Echo: My name is Alice. (turn 1)", "Session expired, created new one", "test: Echo: Hello (turn 1)"]),
  ],
  "002-praisonai.ts": (second) => [
    "Echo: What was my issue again? (turn 2)",
    "test: Your name is John. (6 messages)",
    "Echo: Hi, I want to learn TypeScript (turn 1)",
    "Echo: What should I start with? (turn 2)",
    "Echo: Can you give me an example? (turn 3)",
    "test: 6 messages, last pending: true",
    "test: stored uauaua, last pending: false",
    ...(second ? ["test: Your name is Petra.", "test: stored 4 messages"] : ["test: Echo: My name is Petra. (turn 1)", "test: stored 2 messages"]),
    "test: Echo: Please provide a solution for this customer (turn 3)",
    "test: user, Intake, user, Intake, user, Solution Expert, user, Follow-up",
    "Run run_…: …ms",
    "Run run_…: …ms",
    "Total runs: 2",
    "Total messages: 4",
    "test: runs completed, completed; stored 4 messages",
    "test: Echo: Message number 30 (turn 25); 50 messages kept",
    "test: Echo: I need help (turn 1)",
    "test: error event: addMessage INVALID_MESSAGE",
    "test: next awaited call: INVALID_MESSAGE",
    'test: then [{"content":"Hello again","role":"user"}]',
  ],
  "003-ag-kit.ts": [
    "Alice: Hello, I ' m Alice",
    "Bob: Hi, I ' m Bob",
    'test: 1 1 {"userId":"alice"} true',
    'test: "user- 42 " 0',
    "test: org 0",
    "test: Echo: My name is Ada. (turn 1)",
    "test: Your name is Ada.",
    "test: I don't have that information.",
  ],
};
const masked = (text) => text.trim().split("\n")
  .map((l) => l.replace(/sess_[0-9a-f]{32}/g, "sess_…").replace(/run_[0-9a-f]{24}: \d+ms/g, "run_…: …ms"));

test("seeds: every snippet of seeds 000–003 runs from the installed tarball as written (Node 24), and type-checks under tsc --strict", async (t) => {
  const { startMockLlmServer } = await import("../support/mock-llm-server.mjs");
  const llm = await startMockLlmServer();
  const dir = await consumer("seeds", "scenario.js");
  mkdirSync(path.join(dir, "data"), { recursive: true });
  const env = { ...toolEnv(), OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1`, NODE_NO_WARNINGS: "1" };
  try {
    for (const [file, expected] of Object.entries(SEED_OUTPUT)) {
      for (const second of typeof expected === "function" ? [false, true] : [false]) {
        await t.test(`${file}${second ? " (again: a new process resumes)" : ""}`, async () => {
          llm.reset?.();
          const { stdout } = await run(toolsNode, [file], { cwd: dir, env, timeoutMs: 120_000 });
          assert.deepEqual(masked(stdout), typeof expected === "function" ? expected(second) : expected);
          if (file.startsWith("002") && !second) {
            // PraisonAI's metadata snippet: the model is given the session's metadata.
            const sent = llm.requests().map((r) => JSON.stringify(r.body?.messages?.[0] ?? null));
            assert.ok(sent.some((m) => m.includes("Premium customers get priority support.") && m.includes('\\"customerTier\\":\\"premium\\"')),
              "the metadata snippet's request carries the session's metadata after the instructions");
          }
        });
      }
    }
    assert.ok(existsSync(path.join(dir, "data/praisonai.db")) && existsSync(path.join(dir, "data/dexto.db")), "the persistent snippets wrote their SQLite files");
    await t.test("tsc --strict over the snippets and types.ts (the installed declarations)", async () => {
      await run(path.join(root, "node_modules/.bin/tsc"), ["-p", dir], { cwd: dir, env: toolEnv(), timeoutMs: 120_000 });
    });
  } finally {
    await llm.close();
  }
});

test("no tool reached for the network (every request through the tripwire proxy is recorded)", () => {
  assert.deepEqual(tripwire.hits, []);
});
