// The message tree through the public API in Node (tests/js/tree.cases.mjs): over a host
// key-value object (whose reads follow the session record's range, gaps included once a branch is
// truncated), over that object with encryption at rest (the tree's fields stay readable, the
// content sealed), and a session written before the tree existed, edited in place.
import test from "node:test";
import assert from "node:assert/strict";
import { Agent, SessionStore } from "agent-sessions";
import { treeCases } from "./tree.cases.mjs";

function mapKv() {
  const map = new Map();
  return {
    map,
    async get(k) { return map.get(k) ?? null; },
    async put(k, v) { map.set(k, v); },
    async delete(k) { map.delete(k); },
    async list({ prefix }) { return [...map.keys()].filter((k) => k.startsWith(prefix)).sort(); },
  };
}

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

test("a session stored as this library wrote it before branches existed is edited in place", async () => {
  // Records exactly as version 0.x wrote them (no parentSeq, no headSeq).
  const kv = mapKv();
  const p = "agent-sessions/";
  kv.map.set(`${p}s/old`, JSON.stringify({ v: 1, id: "old", title: "Old", metadata: {}, createdAt: 1, updatedAt: 2, messageCount: 3, nextSeq: 3, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } }));
  ["My name is Ana.", "Nice to meet you.", "What is my name?"].forEach((content, seq) => {
    kv.map.set(`${p}d/old/m/${seq.toString(16).padStart(16, "0")}`, JSON.stringify({ id: `m${seq}`, sessionId: "old", seq, role: seq % 2 ? "assistant" : "user", content, status: "complete", createdAt: 1, tokens: 3 }));
  });
  const store = await SessionStore.open({ storage: { type: "kv", kv } });
  const s = await store.get("old");
  assert.deepEqual((await s.getHistory()).map((m) => m.id), ["m0", "m1", "m2"]);
  await s.editMessage("m0", { content: "My name is Bo." });
  const agent = new Agent({ store, llm: { provider: "mock" } });
  const r = await agent.generate("What is my name?", "old");
  assert.equal(r.content, "Your name is Bo.");
  assert.deepEqual((await s.getBranches("m0")).map((m) => m.content), ["My name is Ana.", "My name is Bo."]);
  await s.switchBranch("m2");
  assert.deepEqual((await s.getHistory()).map((m) => m.id), ["m0", "m1", "m2"], "the old records are the first branch, unchanged");
  assert.equal(kv.map.get(`${p}d/old/m/0000000000000000`).includes("parentSeq"), false, "no old record was rewritten");
});
