// Encryption at rest over IndexedDB in Chromium: the test reads the database's raw records
// with the IndexedDB API and finds no plaintext; the passphrase reopens it; a wrong one fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, routeHarness, servedOrigin } from "./browser.mjs";

const served = servedOrigin();

test("IndexedDB records are sealed; right passphrase reads back, wrong one is WRONG_KEY", async () => {
  const { context } = await launch();
  try {
    const page = await context.newPage();
    await routeHarness(page, served.origin);
    await page.goto(`${served.origin}/harness.html`);
    const result = await page.evaluate(async () => {
      const { SessionStore, Agent } = await import("/pkg/browser.js");
      const storage = { type: "indexeddb", name: "sealed" };
      const encryption = { passphrase: "correct horse battery" };
      const store = await SessionStore.open({ storage, encryption });
      const agent = new Agent({ name: "helper", llm: { provider: "mock" }, store });
      await agent.start();
      await store.create("diary", { title: "Dear diary", metadata: { mood: "wistful" } });
      await agent.generate("My name is Zanzibar and my code word is pelican.", "diary");

      // Everything in every object store, as stored.
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open("sealed");
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const raw = [];
      for (const name of db.objectStoreNames) {
        const all = await new Promise((ok, fail) => {
          const r = db.transaction(name).objectStore(name).getAll();
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        raw.push(JSON.stringify(all));
      }
      db.close();

      const again = await SessionStore.open({ storage, encryption });
      const s = await again.get("diary");
      const history = (await s.getHistory()).map((m) => m.content);
      let wrong = null;
      try {
        await SessionStore.open({ storage, encryption: { passphrase: "wrong horse" } });
      } catch (e) {
        wrong = e.code;
      }
      return { raw: raw.join("\n"), title: s.title, history, wrong };
    });
    for (const secret of ["Zanzibar", "pelican", "Dear diary", "wistful"]) {
      assert.ok(!result.raw.includes(secret), `"${secret}" is in the database in the clear`);
    }
    assert.ok(result.raw.length > 100, "the raw dump is empty");
    assert.equal(result.title, "Dear diary");
    assert.equal(result.history[0], "My name is Zanzibar and my code word is pelican.");
    assert.match(result.history[1], /Zanzibar/);
    assert.equal(result.wrong, "WRONG_KEY");
  } finally {
    await context.close();
  }
});
