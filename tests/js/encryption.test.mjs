// Encryption at rest through the public API: `encryption: { passphrase } | { key }`.
import test from "node:test";
import assert from "node:assert/strict";
import { SessionStore, Agent } from "agent-sessions";
import { mapKv } from "./map-kv.mjs";

test("an encrypted store reads back what it wrote, agent runs included", async () => {
  const store = await SessionStore.open({ encryption: { passphrase: "s3cret", iterations: 1000 } });
  const agent = new Agent({ name: "helper", llm: { provider: "mock" }, store });
  await agent.start();
  const s = await store.create("e1", { title: "Private", metadata: { note: "hidden" } });
  await agent.generate("My name is Ana.", "e1");
  const r = await agent.generate("What is my name?", "e1");
  assert.match(r.content, /Ana/);
  assert.equal(s.title, "Private");
  const h = await s.getHistory();
  assert.deepEqual(h.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
  assert.equal(h[0].content, "My name is Ana.");
});

test("a CryptoKey works in place of a passphrase", async () => {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const store = await SessionStore.open({ encryption: { key } });
  const s = await store.create("k1");
  await s.addMessage({ role: "user", content: "hello" });
  assert.equal((await s.getHistory())[0].content, "hello");
});

test("bad encryption options are INVALID_CONFIG", async () => {
  const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  for (const encryption of [
    {},
    { passphrase: "" },
    { passphrase: "x", key: hmac },
    { key: hmac },
    { passphrase: "x", iterations: 5 },
    { passphrase: "x", salt: "nope" },
    "plain string",
  ]) {
    await assert.rejects(SessionStore.open({ encryption }), { name: "AgentSessionsError", code: "INVALID_CONFIG" }, JSON.stringify(encryption));
  }
});

test("over persistent storage: raw records hold no plaintext; the passphrase reopens; a wrong one is WRONG_KEY", async () => {
  const kv = mapKv();
  const storage = { type: "kv", kv };
  const encryption = { passphrase: "correct horse battery", iterations: 1000 };
  const store = await SessionStore.open({ storage, encryption });
  const agent = new Agent({ name: "helper", llm: { provider: "mock" }, store });
  await agent.start();
  await store.create("diary", { title: "Dear diary", metadata: { mood: "wistful" } });
  await agent.generate("My name is Zanzibar and my code word is pelican.", "diary");
  await (await store.get("diary")).addMessage({ role: "user", content: "the treasure is under the oak", metadata: { where: "garden" } });

  const raw = [...kv.map.values()].join("\n");
  assert.ok(kv.map.size > 3);
  for (const secret of ["Zanzibar", "pelican", "treasure", "Dear diary", "wistful", "garden"]) {
    assert.ok(!raw.includes(secret), `"${secret}" is stored in the clear`);
  }

  const again = await SessionStore.open({ storage, encryption });
  const s = await again.get("diary");
  assert.equal(s.title, "Dear diary");
  assert.deepEqual(s.metadata, { mood: "wistful" });
  const h = await s.getHistory();
  assert.equal(h[0].content, "My name is Zanzibar and my code word is pelican.");
  assert.deepEqual(h.at(-1).metadata, { where: "garden" });

  await assert.rejects(
    SessionStore.open({ storage, encryption: { passphrase: "wrong horse", iterations: 1000 } }),
    { name: "AgentSessionsError", code: "WRONG_KEY" },
  );
  // Opening without encryption shows sealed records, never plaintext, and loses nothing.
  const plain = await SessionStore.open({ storage });
  assert.ok(!(await (await plain.get("diary")).getHistory())[0].content.includes("Zanzibar"));
});
