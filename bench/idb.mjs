// IndexedDB append and restore through the library against raw IndexedDB, in one page, in
// Chromium (playwright-core driving the system Chromium) and Firefox (geckodriver driving the
// system Firefox over WebDriver: Playwright's own Firefox build cannot be downloaded here).
//
//   node bench/idb.mjs                       (after ./scripts/build)
//   N=50 ROUNDS=1 RESTORES=1 node bench/idb.mjs   (short mode: what tests/e2e/bench-idb.test.mjs runs)
//   BROWSERS=chromium node bench/idb.mjs     (one browser; default "chromium,firefox")
//   PKG=/some/other/pkg node bench/idb.mjs   (another build of the package, e.g. a baseline)
//
// The page (bench/idb-page.mjs) runs ROUNDS rounds, each: N `addMessage` calls (one durable
// append each: a Web Lock, one strict readwrite transaction) against N raw strict `readwrite`
// transactions putting an equivalent message record, alternating in chunks of CHUNK (100); then RESTORES alternating
// pairs of `getHistory()` of the N messages (a freshly opened store) against a raw `getAll` on
// the session's key range. Prints medians and ratios as Markdown; bench/idb.md records a run.
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../", import.meta.url));
const PKG = process.env.PKG ? path.resolve(process.env.PKG) : path.join(root, "pkg");
const N = Number(process.env.N ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RESTORES = Number(process.env.RESTORES ?? 7);
const CHUNK = Number(process.env.CHUNK ?? 100);
const BROWSERS = (process.env.BROWSERS ?? "chromium,firefox").split(",").filter(Boolean);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
const GECKODRIVER = process.env.GECKODRIVER ?? "geckodriver";

const PAGE = `<!doctype html><meta charset="utf-8"><title>bench idb</title>
<script type="module">import "/bench/idb-page.mjs";</script>`;
const types = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };

/** Serves the page at /, bench/idb-page.mjs, and the package at /pkg/. */
function serve() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x").pathname;
    if (url === "/" || url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(PAGE);
    }
    const file = url === "/bench/idb-page.mjs" ? path.join(root, "bench/idb-page.mjs")
      : url.startsWith("/pkg/") ? path.join(PKG, path.posix.normalize(url.slice(5))) : null;
    try {
      if (!file || !file.startsWith(url.startsWith("/pkg/") ? PKG : root) || !(await stat(file)).isFile()) throw 0;
      res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

const options = { n: N, rounds: ROUNDS, restores: RESTORES, chunk: CHUNK };

async function inChromium(origin) {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-idb-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error("[chromium]", e.message));
    await page.goto(origin + "/");
    await page.waitForFunction(() => window.benchReady === true);
    return await page.evaluate((o) => window.runBench(o), options);
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A minimal WebDriver client: enough to open a page and run an async script in it. */
async function inFirefox(origin) {
  const port = 4444 + Math.floor(Math.random() * 1000);
  const driver = spawn(GECKODRIVER, ["--port", String(port), "--log", "error"], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, url, body) => {
    const r = await fetch(base + url, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const json = await r.json();
    if (!r.ok) throw new Error(`WebDriver ${url}: ${json.value?.message ?? r.status}`);
    return json.value;
  };
  try {
    for (let i = 0; ; i++) {
      try { await call("GET", "/status"); break; } catch (e) {
        if (i > 200) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const { sessionId } = await call("POST", "/session", {
      capabilities: { alwaysMatch: { browserName: "firefox", "moz:firefoxOptions": { binary: FIREFOX, args: ["-headless"] } } },
    });
    const at = `/session/${sessionId}`;
    try {
      await call("POST", `${at}/timeouts`, { script: 3_600_000, pageLoad: 60_000 });
      await call("POST", `${at}/url`, { url: origin + "/" });
      await call("POST", `${at}/execute/async`, {
        script: "const done = arguments[0]; (function wait() { window.benchReady ? done(true) : setTimeout(wait, 20); })();", args: [],
      });
      const out = await call("POST", `${at}/execute/async`, {
        script: "const [o, done] = arguments; window.runBench(o).then(done, (e) => done({ error: String(e && e.stack || e) }));",
        args: [options],
      });
      if (out?.error) throw new Error(out.error);
      return out;
    } finally {
      await call("DELETE", at).catch(() => {});
    }
  } finally {
    driver.kill();
  }
}

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const results = {};
try {
  for (const b of BROWSERS) {
    if (b === "chromium") results[b] = await inChromium(origin);
    else if (b === "firefox") results[b] = await inFirefox(origin);
    else throw new Error(`unknown browser ${b}`);
  }
} finally {
  server.close();
}

const ms = (x) => `${x.toFixed(x < 100 ? 1 : 0)} ms`;
// A ratio over a time the browser's clock rounded to 0 (short mode: 50 messages, one restore) is
// no figure; it crosses from the page as null.
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a (too short to time)");
console.log(`IndexedDB, ${N} messages, ${ROUNDS} rounds (appends in alternating chunks of ${CHUNK}, ${RESTORES} restores each), medians; package ${path.relative(root, PKG) || PKG}\n`);
console.log("| browser | appends: ours | raw strict puts | speed vs raw (≥ 0.8) | restore: ours | raw getAll | time vs raw (≤ 1.3) |");
console.log("|---|---|---|---|---|---|---|");
for (const [b, r] of Object.entries(results)) {
  const m = r.median;
  console.log(`| ${b} | ${ms(m.appendOurs)} | ${ms(m.appendRaw)} | ${ratio(r.appendSpeed)} | ${ms(m.restoreOurs)} | ${ms(m.restoreRaw)} | ${ratio(r.restoreTime)} |`);
}
if (process.env.VERBOSE) console.log(JSON.stringify(results, null, 1));
