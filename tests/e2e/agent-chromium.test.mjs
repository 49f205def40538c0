// The Agent acceptance cases of tests/js/agent.cases.mjs, run inside headless Chromium against the
// browser entry of the built package (/pkg/browser.js) and the same in-process mock LLM server
// (cross-origin, so CORS is exercised too). One node:test test per case, named after it.
// Run: node --test tests/e2e/agent-chromium.test.mjs
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startMockLlmServer } from "../support/mock-llm-server.mjs";
import { cases } from "../js/agent.cases.mjs";
import { launch } from "./browser.mjs";

const CASE_TIMEOUT_MS = Number(process.env.AGENT_CASE_TIMEOUT_MS ?? 30_000);
const CONCURRENCY = Number(process.env.AGENT_CASE_CONCURRENCY ?? 5);
const root = fileURLToPath(new URL("../../", import.meta.url));

// Only what the page needs: the built package and the shared test modules.
const SERVED = ["/pkg/", "/tests/js/"];
const TYPES = { ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json" };

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>agent-sessions: Agent acceptance</title></head>
<body>
<script type="module">
  import { makeControl, runCase, describeError } from "/tests/js/agent-harness.mjs";
  import { assert } from "/tests/js/assert-shim.mjs";
  import { cases } from "/tests/js/agent.cases.mjs";
  let lib = null;
  let libError = null;
  try {
    lib = await import("/pkg/browser.js");
  } catch (e) {
    libError = describeError(e).text;
  }
  window.__agentTests = {
    names: cases.map((c) => c.name),
    libError,
    async run(name, mockUrl, timeoutMs) {
      const c = cases.find((x) => x.name === name);
      if (!c) return { ok: false, error: "no case named " + JSON.stringify(name) + " in the page" };
      if (!lib) return { ok: false, error: "importing /pkg/browser.js failed: " + libError };
      const t = { lib, mockUrl, assert, control: makeControl(mockUrl) };
      const started = performance.now();
      try {
        await runCase(c, t, { timeoutMs });
        return { ok: true, ms: Math.round(performance.now() - started) };
      } catch (e) {
        return { ok: false, ms: Math.round(performance.now() - started), error: describeError(e).text };
      }
    },
  };
  document.body.dataset.ready = "true";
</script>
</body></html>`;

function startStatic() {
  const server = createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (urlPath === "/" || urlPath === "/agent-tests.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      return res.end(PAGE);
    }
    const clean = path.posix.normalize(urlPath);
    const file = path.join(root, clean);
    try {
      if (clean.includes("\0") || !SERVED.some((p) => clean.startsWith(p)) || !file.startsWith(root)) throw new Error("not served");
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

describe("Agent acceptance (Chromium)", { concurrency: CONCURRENCY }, () => {
  let llm, server, browser, page;
  const pageErrors = [];

  before(async () => {
    llm = await startMockLlmServer();
    server = await startStatic();
    browser = await launch();
    page = await browser.context.newPage();
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && pageErrors.push(`console.error: ${m.text()}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/agent-tests.html`);
    try {
      await page.waitForFunction(() => document.body?.dataset.ready === "true", null, { timeout: 15_000 });
    } catch (e) {
      throw new Error(`the test page did not load: ${e.message}\n${pageErrors.join("\n")}`);
    }
  });
  after(async () => {
    await browser?.context.close();
    await new Promise((r) => (server ? server.close(r) : r()));
    await llm?.close();
  });

  it("the page loaded the package and the same cases", async () => {
    const { names, libError } = await page.evaluate(() => ({ names: window.__agentTests.names, libError: window.__agentTests.libError }));
    assert.equal(libError, null, `importing /pkg/browser.js failed: ${libError}`);
    assert.deepEqual(names, cases.map((c) => c.name));
  });

  for (const c of cases) {
    it(c.name, { timeout: CASE_TIMEOUT_MS + 4000 }, async () => {
      const r = await page.evaluate(
        ([name, mockUrl, timeoutMs]) => window.__agentTests.run(name, mockUrl, timeoutMs),
        [c.name, llm.url, CASE_TIMEOUT_MS],
      );
      if (!r.ok) throw new Error(`[in Chromium] ${r.error}`);
    });
  }
});
