// The message tree through the public API in Node (tests/js/tree.cases.mjs): over a host
// key-value object (whose reads follow the session record's range, gaps included once a branch is
// truncated), over that object with encryption at rest (the tree's fields stay readable, the
// content sealed), and records written by the version before the tree, edited in place.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Agent, SessionStore } from "agent-sessions";
import { treeCases } from "./tree.cases.mjs";
import { mapKv } from "./map-kv.mjs";

test("the tree over a host key-value object", async () => {
  const kv = mapKv();
  const checks = await treeCases({ SessionStore, Agent }, () => ({ type: "kv", kv }));
  assert.ok(checks > 40, `${checks} checks`);
});

test("the tree over an encrypted store: the records name parents, the content stays sealed", async () => {
  const kv = mapKv();
  const encryption = { passphrase: "correct horse battery", iterations: 1000 };
  await treeCases({ SessionStore, Agent }, () => ({ type: "kv", kv }), "sealed");
  const store = await SessionStore.open({ storage: { type: "kv", kv }, encryption });
  const s = await store.create("secret");
  const q = await s.addMessage({ role: "user", content: "My name is Sarah." });
  await s.editMessage(q.id, { content: "My name is Tom." });
  const raw = [...kv.map.values()].join("\n");
  assert.doesNotMatch(raw, /Sarah|Tom/);
  assert.match(raw, /"parentSeq":null/);
  const again = await SessionStore.open({ storage: { type: "kv", kv }, encryption });
  const t = await again.get("secret");
  assert.deepEqual((await t.getHistory()).map((m) => m.content), ["My name is Tom."]);
  assert.deepEqual((await t.getBranches(q.id)).map((m) => m.content), ["My name is Sarah.", "My name is Tom."]);
});

test("a session written by the version before the tree (tests/fixtures/v1/kv.json) is edited in place", async () => {
  const fixture = JSON.parse(readFileSync(new URL("../fixtures/v1/kv.json", import.meta.url), "utf8"));
  const kv = mapKv();
  for (const [k, v] of fixture.entries) kv.map.set(k, v);
  const store = await SessionStore.open({ storage: { type: "kv", kv } });
  const s = await store.get(fixture.session);
  const old = await s.getHistory();
  assert.deepEqual(old.map((m) => m.content), fixture.history, "the old history reads as it was written");
  await s.editMessage(old[0].id, { content: "My name is Bo." });
  const agent = new Agent({ store, llm: { provider: "mock" } });
  const r = await agent.generate("What is my name?", fixture.session);
  assert.equal(r.content, "Your name is Bo.");
  assert.deepEqual((await s.getBranches(old[0].id)).map((m) => m.content), [fixture.history[0], "My name is Bo."]);
  const back = await s.switchBranch(old.at(-1).id);
  assert.deepEqual(back.map((m) => m.id), old.map((m) => m.id), "the old records are the first branch");
  const unchanged = fixture.entries.filter(([k]) => k.includes("/m/"));
  for (const [k, v] of unchanged) assert.equal(kv.map.get(k), v, `${k} was not rewritten`);
});
