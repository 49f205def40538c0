// A message's payload (a framework's own form of it) through the public API: kept verbatim,
// refused when hostile, sealed under encryption, carried by export and import.
import test from "node:test";
import assert from "node:assert/strict";
import { SessionStore } from "agent-sessions";
import { mapKv } from "./map-kv.mjs";

const parts = [
  { type: "step-start" },
  { type: "reasoning", text: "The user greets me.", providerMetadata: { openai: { itemId: "rs_1" } } },
  { type: "tool-weather", toolCallId: "call_1", state: "output-available", input: { city: "Lisbon" }, output: { sunny: true } },
  { type: "text", text: "Hello!" },
];

test("a payload is stored verbatim, restored, exported and imported", async () => {
  const kv = mapKv();
  const store = await SessionStore.open({ storage: { type: "kv", kv } });
  const s = await store.create("p");
  const m = await s.addMessage({ role: "assistant", content: "Hello!", payload: parts });
  assert.deepEqual(m.payload, parts);
  const plain = await s.addMessage({ role: "user", content: "no payload" });
  assert.equal("payload" in plain, false);
  const again = await SessionStore.open({ storage: { type: "kv", kv } });
  const h = await (await again.get("p")).getHistory();
  assert.deepEqual(h[0].payload, parts);
  const copy = await again.importSession(await (await again.get("p")).export(), { id: "q" });
  assert.deepEqual((await copy.getHistory())[0].payload, parts);
});

test("a hostile payload is INVALID_MESSAGE and writes nothing", async () => {
  const store = await SessionStore.open();
  const s = await store.create("p");
  for (const payload of [JSON.parse('{"a":{"__proto__":{"polluted":1}}}'), { text: "x".repeat(4 * 1024 * 1024 + 1) }]) {
    await assert.rejects(s.addMessage({ role: "user", content: "hi", payload }), (e) => e.code === "INVALID_MESSAGE");
  }
  assert.equal((await s.getHistory()).length, 0);
});

test("under encryption the payload is sealed with the content", async () => {
  const kv = mapKv();
  const encryption = { passphrase: "correct horse battery", iterations: 1000 };
  const store = await SessionStore.open({ storage: { type: "kv", kv }, encryption });
  const s = await store.create("secret");
  await s.addMessage({ role: "assistant", content: "Hello!", payload: [{ type: "text", text: "pelican-codeword" }] });
  assert.doesNotMatch([...kv.map.values()].join("\n"), /pelican/);
  const again = await SessionStore.open({ storage: { type: "kv", kv }, encryption });
  assert.deepEqual((await (await again.get("secret")).getHistory())[0].payload, [{ type: "text", text: "pelican-codeword" }]);
});
