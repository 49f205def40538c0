// IndexedDB past its quota, in Chromium: the quota is forced down through the DevTools protocol
// (Storage.overrideQuotaForOrigin, what DevTools' "simulate custom storage quota" does). A write
// that does not fit fails with STORAGE_QUOTA, the history written before stays, and once the
// quota is back the same store writes again. (localStorage's quota is tested in Chromium and
// Firefox by tests/web.rs.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../../scripts/serve.mjs";
import { launch } from "./browser.mjs";

let server, browser, base;

before(async () => {
  server = await startServer({ port: 0 });
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launch();
});
after(async () => {
  await browser?.context.close();
  await new Promise((r) => server?.close(r));
});

test("IndexedDB over quota: STORAGE_QUOTA, earlier history intact, writes again once space is back", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.route("**/blank.html", (r) => r.fulfill({ contentType: "text/html", body: "<!doctype html><title>quota</title>" }));
  await page.goto(`${base}blank.html`);
  const origin = new URL(base).origin;
  const cdp = await browser.context.newCDPSession(page);
  // Chromium applies an override to connections opened after it: set it first, roomy enough for
  // small writes, far too small for the big one.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 200_000 });

  await page.evaluate(async () => {
    const lib = await import("/pkg/browser.js");
    const store = await lib.SessionStore.open({ storage: { type: "indexeddb", name: "quota-test" } });
    const s = await store.create("q");
    await s.addMessage({ role: "user", content: "before" });
    // Incompressible content, so the write really needs its size.
    window.bigText = () => {
      const bytes = crypto.getRandomValues(new Uint8Array(60_000));
      return Array.from({ length: 16 }, () => Array.from(bytes, (b) => b.toString(36)).join("")).join("");
    };
    Object.assign(window, { lib, store, s });
  });

  const failure = await page.evaluate(async () => {
    try {
      await s.addMessage({ role: "user", content: bigText() });
      return null;
    } catch (e) {
      return { name: e.name, code: e.code, message: e.message };
    }
  });
  assert.ok(failure, "the write over quota failed");
  assert.equal(failure.name, "AgentSessionsError");
  assert.equal(failure.code, "STORAGE_QUOTA", failure.message);
  const whenFull = await page.evaluate(async () => (await s.getHistory()).map((m) => m.content));
  assert.deepEqual(whenFull, ["before"]);

  await cdp.send("Storage.overrideQuotaForOrigin", { origin });
  const after = await page.evaluate(async () => {
    // The same write as the one refused: it fits now.
    const big = bigText();
    await s.addMessage({ role: "user", content: big });
    const again = await lib.SessionStore.open({ storage: { type: "indexeddb", name: "quota-test" } });
    const h = await (await again.get("q")).getHistory();
    return { contents: h.map((m) => (m.content === big ? "big" : m.content)), seqs: h.map((m) => m.seq) };
  });
  assert.deepEqual(after.contents, ["before", "big"]);
  assert.deepEqual(after.seqs, [0, 1], "the failed write used no seq");
  assert.deepEqual(errors, []);
});
