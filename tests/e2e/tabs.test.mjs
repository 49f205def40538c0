// Several tabs over one IndexedDB database: writes to one session are serialised across tabs
// (Web Locks; without them, the store's seq-slot check), and each tab hears of the other's
// changes through BroadcastChannel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, routeHarness, servedOrigin } from "./browser.mjs";

const served = servedOrigin();

async function tabs(context, count, { noWebLocks = false } = {}) {
  if (noWebLocks) {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
    });
  }
  const { origin } = served;
  await routeHarness(context, origin);
  const pages = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(`${origin}/harness.html`);
    await page.evaluate(async () => {
      const { SessionStore } = await import("/pkg/browser.js");
      window.store = await SessionStore.open({ storage: { type: "indexeddb", name: "tabs" } });
      window.heard = [];
      for (const name of ["session:created", "message:added", "session:updated"]) {
        window.store.on(name, (e) => window.heard.push({ type: e.type, sessionId: e.sessionId, remote: !!e.remote, content: e.message?.content }));
      }
    });
    pages.push(page);
  }
  return pages;
}

async function appendConcurrently(pages, id, perTab) {
  await pages[0].evaluate((id) => window.store.getOrCreate(id), id);
  await Promise.all(pages.map((page, t) => page.evaluate(async ({ id, t, perTab }) => {
    const s = await window.store.get(id);
    // Several appends in flight at once from each tab, interleaving with the other tab's.
    await Promise.all(Array.from({ length: perTab }, (_, i) => s.addMessage({ role: "user", content: `tab${t}-${i}` })));
  }, { id, t, perTab })));
  // Each tab's session record is its cached copy, brought up to date by the other tab's broadcast
  // (sent at the end of that tab's task): wait for the count to settle before reading it (a
  // record that never reaches the total still fails below).
  const total = pages.length * perTab;
  return Promise.all(pages.map((p) => p.evaluate(async ({ id, total }) => {
    for (let i = 0; i < 400 && (await window.store.get(id)).messageCount !== total; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const s = await window.store.get(id);
    return { count: s.messageCount, history: (await s.getHistory()).map((m) => ({ seq: m.seq, content: m.content })) };
  }, { id, total })));
}

function assertOnceEachInOneOrder(views, tabsCount, perTab) {
  const [first, ...rest] = views;
  const expected = [];
  for (let t = 0; t < tabsCount; t++) for (let i = 0; i < perTab; i++) expected.push(`tab${t}-${i}`);
  assert.equal(first.history.length, expected.length);
  assert.deepEqual(first.history.map((m) => m.content).sort(), expected.sort(), "every message exactly once");
  for (let i = 1; i < first.history.length; i++) assert.ok(first.history[i].seq > first.history[i - 1].seq);
  for (const v of rest) assert.deepEqual(v.history, first.history, "both tabs read one order");
  for (const v of views) assert.equal(v.count, expected.length, "the session record counts every message");
}

test("two tabs appending to one session: every message once, one order, and each hears the other", async () => {
  const { context } = await launch();
  try {
    const pages = await tabs(context, 2);
    const views = await appendConcurrently(pages, "shared", 40);
    assertOnceEachInOneOrder(views, 2, 40);
    // Tab B heard tab A's appends (and the other way round), marked remote.
    const heardByB = await pages[1].evaluate(() => window.heard);
    const remoteAdds = heardByB.filter((e) => e.type === "message:added" && e.remote);
    assert.ok(remoteAdds.some((e) => e.content?.startsWith("tab0-")), "B heard A's messages");
    assert.ok(heardByB.some((e) => e.type === "session:updated" && e.remote && e.sessionId === "shared"));
    // A single later append in A is heard by B.
    await pages[0].evaluate(async () => (await window.store.get("shared")).addMessage({ role: "user", content: "ping" }));
    await pages[1].waitForFunction(() => window.heard.some((e) => e.remote && e.content === "ping"));
  } finally {
    await context.close();
  }
});

test("without Web Locks the seq-slot check still keeps every message exactly once", async () => {
  const { context } = await launch();
  try {
    const pages = await tabs(context, 2, { noWebLocks: true });
    assert.equal(await pages[0].evaluate(() => typeof navigator.locks), "undefined");
    const views = await appendConcurrently(pages, "nolocks", 30);
    assertOnceEachInOneOrder(views, 2, 30);
  } finally {
    await context.close();
  }
});

test("a tab appending in a loop keeps its Web Lock only a few writes: another tab's append gets in", async () => {
  // Consecutive appends from one tab reuse one Web Lock (a lease of at most 8 reuses), so a tab
  // looping on appends must not hold the session for the whole loop.
  const { context } = await launch();
  try {
    const pages = await tabs(context, 2);
    const LOOP = 300;
    await pages[0].evaluate((id) => window.store.getOrCreate(id), "lease");
    const looping = pages[0].evaluate(async ({ id, LOOP }) => {
      const s = await window.store.get(id);
      for (let i = 0; i < LOOP; i++) await s.addMessage({ role: "user", content: `a${i}` });
    }, { id: "lease", LOOP });
    // B appends once, as soon as it has heard A's first append.
    const b = await pages[1].evaluate(async (id) => {
      await new Promise((ok) => {
        const seen = () => window.heard.some((e) => e.remote && e.type === "message:added" && e.sessionId === id);
        if (seen()) return ok();
        const off = window.store.on("message:added", () => { if (seen()) { off(); ok(); } });
      });
      const m = await (await window.store.get(id)).addMessage({ role: "user", content: "b" });
      return m.seq;
    }, "lease");
    await looping;
    const history = await pages[0].evaluate(async (id) => (await (await window.store.get(id)).getHistory()).map((m) => m.content), "lease");
    assert.equal(history.length, LOOP + 1, "every message once");
    assert.equal(history.filter((c) => c === "b").length, 1);
    assert.deepEqual(history.filter((c) => c !== "b"), Array.from({ length: LOOP }, (_, i) => `a${i}`), "A's in order");
    assert.ok(b < LOOP, `B's append waited for A's whole loop (seq ${b})`);
  } finally {
    await context.close();
  }
});

for (const noWebLocks of [false, true]) {
  test(`an append is refused a position another writer took, and lands after it (${noWebLocks ? "no Web Locks: the record read in the write" : "Web Locks: the cached record under a kept lock"})`, async () => {
    const { context } = await launch();
    try {
      const [page] = await tabs(context, 1, { noWebLocks });
      const out = await page.evaluate(async () => {
        const id = "conflict";
        const db = await new Promise((ok, fail) => {
          const r = indexedDB.open("tabs");
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        const raw = (seq, extra = {}) => {
          const tx = db.transaction(["messages"], "readwrite");
          tx.objectStore("messages").put({ id: `msg_raw${seq}`, sessionId: id, seq, role: "user", content: `raw${seq}`, status: "complete", createdAt: Date.now(), tokens: 1, ...extra });
          return new Promise((ok) => { tx.oncomplete = ok; });
        };
        const s = await window.store.create(id);
        const a = await s.addMessage({ role: "user", content: "a" });
        // A writer that does not go through the session record puts a message at the next
        // position; its transaction is queued before the append's, so it commits first.
        const written = raw(1);
        const b = await s.addMessage({ role: "user", content: "b" });
        await written;
        // A record not exactly in its public form (an unknown field): getHistory decodes it.
        await raw(3, { extra: true });
        const c = await s.addMessage({ role: "user", content: "c" });
        const history = await s.getHistory();
        const again = await window.store.get(id);
        return {
          seqs: [a.seq, b.seq, c.seq],
          history: history.map((m) => [m.seq, m.content, "extra" in m]),
          count: again.messageCount,
        };
      });
      assert.deepEqual(out.seqs, [0, 2, 4]);
      assert.deepEqual(out.history, [[0, "a", false], [1, "raw1", false], [2, "b", false], [3, "raw3", false], [4, "c", false]]);
      assert.equal(out.count, 5);
    } finally {
      await context.close();
    }
  });
}
