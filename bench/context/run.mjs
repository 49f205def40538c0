// Runs bench/context/build-bench.mjs in Node (the package's Node entry) and in headless Chromium
// (pkg/browser.js over a local static server), and prints the results as a Markdown table.
//   ./scripts/build && node bench/context/run.mjs [--sizes 100,1000,10000,100000] [--builds 200]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import * as lib from "agent-sessions";
import { runBench } from "./build-bench.mjs";
import { launch } from "../../tests/e2e/browser.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg("sizes", "100,1000,10000,100000").split(",").map(Number);
const builds = Number(arg("builds", "200"));
const root = fileURLToPath(new URL("../../", import.meta.url));

const results = {};
console.error("node…");
results.node = await runBench(lib, { sizes, builds, now: () => performance.now(), log: (r) => console.error("  node", JSON.stringify(r)) });

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
  import * as lib from "/pkg/browser.js";
  import { runBench } from "/bench/context/build-bench.mjs";
  window.__bench = (opts) => runBench(lib, { ...opts, now: () => performance.now() });
  document.body.dataset.ready = "true";
</script>`;
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };
const server = createServer(async (req, res) => {
  const p = path.posix.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (p === "/") return res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
  if (!(p.startsWith("/pkg/") || p.startsWith("/bench/context/"))) return res.writeHead(404).end();
  try {
    const body = await readFile(path.join(root, p));
    res.writeHead(200, { "content-type": TYPES[path.extname(p)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const browser = await launch();
try {
  console.error("chromium…");
  const page = await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.body?.dataset.ready === "true", null, { timeout: 15_000 });
  results.chromium = await page.evaluate((opts) => window.__bench(opts), { sizes, builds });
} finally {
  await browser.context.close();
  server.close();
}

console.log(`| runtime | messages in session | messages kept (8k budget) | median per build | p90 per build (batches of 10) | builds |`);
console.log(`|---|---|---|---|---|---|`);
for (const [runtime, rows] of Object.entries(results)) {
  for (const r of rows) {
    console.log(`| ${runtime} | ${r.messages.toLocaleString("en")} | ${r.kept} | ${r.medianMs.toFixed(3)} ms | ${r.p90Ms.toFixed(3)} ms | ${r.builds} |`);
  }
}
