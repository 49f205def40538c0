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
  return Promise.all(pages.map((p) => p.evaluate(async (id) => {
    const s = await window.store.get(id);
    return { count: s.messageCount, history: (await s.getHistory()).map((m) => ({ seq: m.seq, content: m.content })) };
  }, id)));
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
