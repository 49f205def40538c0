// A Vite app that only stores sessions: `agent-sessions/store` resolves to the storage-only
// module (no LLM client, no agent, no context builder), and only that module is fetched.
import * as lib from "agent-sessions/store";

async function main() {
  const store = await lib.SessionStore.open({ storage: { type: "indexeddb", name: "store-entry" } });
  const session = await store.getOrCreate("store-entry", { title: "Notes", metadata: { tier: "free" } });
  await session.addMessage({ role: "user", content: "My name is Sarah." });
  await session.addMessage({ role: "assistant", content: "Hello, Sarah." });
  const run = session.createRun();
  await run.start();
  await run.complete();
  const bundle = await session.export();
  // A second store over the same database sees what the first wrote.
  const again = await lib.SessionStore.open({ storage: { type: "indexeddb", name: "store-entry" } });
  const reopened = await again.get("store-entry");
  const copy = await again.importSession(bundle, { id: "store-entry-copy" });
  let bad;
  try {
    await session.addMessage({ role: "wizard", content: "x" });
  } catch (e) {
    bad = { name: e.name, code: e.code };
  }
  return {
    exports: Object.keys(lib).sort(),
    title: reopened.title,
    metadata: reopened.metadata,
    history: (await reopened.getHistory()).map((m) => `${m.role}: ${m.content}`),
    runs: (await reopened.getRuns()).map((r) => r.status),
    copied: (await copy.getHistory()).length,
    llmMethods: ["getMessagesForLLM", "previewContext"].filter((m) => m in lib.Session.prototype),
    bad,
  };
}

main().then(
  (result) => (window.packagingResult = result),
  (e) => (window.packagingResult = { error: String(e?.stack ?? e) }),
);
