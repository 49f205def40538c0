// Export a session to a JSON bundle and import it back, through the package's Node entry.
import test from "node:test";
import assert from "node:assert/strict";
import { SessionStore, Agent } from "agent-sessions";

async function sessionWithAHistory(store) {
  const agent = new Agent({ name: "helper", llm: { provider: "mock" }, store });
  await agent.start();
  const s = await store.create("trip", { title: "Trip to Lisbon", metadata: { tier: "gold" } });
  await agent.generate("My name is Ana.", "trip");
  await agent.generate("What is my name?", "trip");
  return s;
}

test("export → JSON text → import elsewhere restores messages, runs, title and metadata", async () => {
  const a = await SessionStore.open();
  const s = await sessionWithAHistory(a);
  const bundle = await s.export();
  assert.equal(bundle.format, "agent-sessions/session");
  assert.equal(bundle.version, 2);
  assert.equal(bundle.messages.length, 4);
  assert.equal(bundle.runs.length, 2);
  const text = JSON.stringify(bundle);

  const b = await SessionStore.open();
  const copy = await b.importSession(text);
  assert.equal(copy.id, "trip");
  assert.equal(copy.title, "Trip to Lisbon");
  assert.deepEqual(copy.metadata, { tier: "gold" });
  assert.equal(copy.messageCount, 4);
  const history = await copy.getHistory();
  assert.deepEqual(history.map((m) => [m.role, m.content]), bundle.messages.map((m) => [m.role, m.content]));
  assert.equal((await copy.getRuns()).length, 2);
  assert.deepEqual(copy.usage, s.usage);
  // The imported session goes on where it stopped.
  const next = await copy.addMessage({ role: "user", content: "and now?" });
  assert.equal(next.seq, history.at(-1).seq + 1);
});

test("import refuses a taken id unless asked to overwrite, and can rename", async () => {
  const store = await SessionStore.open();
  const s = await sessionWithAHistory(store);
  const bundle = await s.export();
  await assert.rejects(store.importSession(bundle), { name: "AgentSessionsError", code: "SESSION_EXISTS" });
  const renamed = await store.importSession(bundle, { id: "trip-copy" });
  assert.equal(renamed.messageCount, 4);
  await s.addMessage({ role: "user", content: "extra" });
  const replaced = await store.importSession(bundle, { overwrite: true });
  assert.equal(replaced.messageCount, 4);
  assert.deepEqual((await store.listSessions()).sort(), ["trip", "trip-copy"]);
});

test("a damaged or foreign file is refused with INVALID_ARGUMENT and writes nothing", async () => {
  const store = await SessionStore.open();
  const s = await sessionWithAHistory(store);
  const good = await s.export();
  const broken = [
    "not json",
    { ...good, format: "something-else" },
    { ...good, version: 3 },
    { ...good, version: 1, messages: [good.messages[0], { ...good.messages[1], parentSeq: null }] },
    { ...good, session: { ...good.session, headSeq: 99 } },
    { ...good, messages: [good.messages[0], { ...good.messages[1], parentSeq: 5 }] },
    { ...good, messages: [{ ...good.messages[0], role: "wizard" }] },
    { ...good, messages: [good.messages[1], good.messages[0]] },
    { ...good, session: { ...good.session, metadata: JSON.parse('{"__proto__": {"x": 1}}') } },
  ];
  for (const b of broken) {
    await assert.rejects(store.importSession(b, { id: "fresh" }), (e) => {
      assert.equal(e.name, "AgentSessionsError");
      assert.match(e.code, /INVALID_ARGUMENT|INVALID_MESSAGE|INVALID_METADATA/);
      return true;
    });
    assert.equal(await store.get("fresh"), null);
  }
});
