// The message tree through the browser entry in headless Chromium (tests/js/tree.cases.mjs):
// over IndexedDB and over localStorage, each restart a new store over the same storage; and an
// IndexedDB database written by the version before the tree (tests/fixtures/v1/, made by
// tests/fixtures/v1/make.mjs with that version's package), opened, edited and branched in place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launch, routeHarness, servedOrigin } from "./browser.mjs";

const served = servedOrigin();
const cases = readFileSync(new URL("../js/tree.cases.mjs", import.meta.url), "utf8");
const fixture = readFileSync(new URL("../fixtures/v1/indexeddb.json", import.meta.url), "utf8");

async function page(context) {
  const p = await context.newPage();
  await routeHarness(p, served.origin);
  await p.route(`${served.origin}/tree.cases.mjs`, (r) => r.fulfill({ contentType: "text/javascript", body: cases }));
  await p.goto(`${served.origin}/harness.html`);
  return p;
}

test("IndexedDB and localStorage: edits, regenerate, branches, truncation, fork, export, restart", async () => {
  const { context } = await launch();
  try {
    const p = await page(context);
    const result = await p.evaluate(async () => {
      const lib = await import("/pkg/browser.js");
      const { treeCases } = await import("/tree.cases.mjs");
      const idb = await treeCases(lib, () => ({ type: "indexeddb", name: "tree" }), "idb");
      const ls = await treeCases(lib, () => ({ type: "localstorage", prefix: "tree/" }), "ls");
      return { idb, ls };
    });
    assert.ok(result.idb > 40 && result.ls > 40, JSON.stringify(result));
  } finally {
    await context.close();
  }
});

test("an IndexedDB database written before the tree existed opens, keeps its history and branches in place", async () => {
  const { context } = await launch();
  try {
    const p = await page(context);
    const result = await p.evaluate(async (dumpText) => {
      const dump = JSON.parse(dumpText);
      const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      // Recreate the old database exactly: version, object stores, indexes, records.
      const open = indexedDB.open(dump.name, dump.version);
      open.onupgradeneeded = () => {
        const db = open.result;
        for (const s of dump.stores) {
          const os = db.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
          for (const i of s.indexes) os.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
        }
      };
      const db = await req(open);
      for (const s of dump.stores) {
        const tx = db.transaction(s.name, "readwrite");
        for (const [key, value] of s.records) s.keyPath === null ? tx.objectStore(s.name).put(value, key) : tx.objectStore(s.name).put(value);
        await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
      }
      db.close();
      const { SessionStore, Agent } = await import("/pkg/browser.js");
      const storage = { type: "indexeddb", name: dump.name };
      const store = await SessionStore.open({ storage });
      const s = await store.get(dump.session);
      const before = (await s.getHistory()).map((m) => m.content);
      const first = (await s.getHistory())[0];
      await s.editMessage(first.id, { content: "My name is Bo." });
      const agent = new Agent({ store, llm: { provider: "mock" } });
      const reply = await agent.generate("What is my name?", dump.session);
      const again = await SessionStore.open({ storage });
      const t = await again.get(dump.session);
      const branches = (await t.getBranches(first.id)).map((m) => m.content);
      const back = (await t.switchBranch(first.id)).map((m) => m.content);
      return { before, expected: dump.history, reply: reply.content, branches, back };
    }, fixture);
    assert.deepEqual(result.before, result.expected, "the old history reads as it was written");
    assert.equal(result.reply, "Your name is Bo.");
    assert.deepEqual(result.branches, [result.expected[0], "My name is Bo."]);
    assert.deepEqual(result.back, result.expected, "the old records are the first branch, unchanged");
  } finally {
    await context.close();
  }
});
