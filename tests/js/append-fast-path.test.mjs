// `session.addMessage` reads a plain `{ role, content }` message in one call (src/bindings/append.js)
// and, when no earlier call is unfinished, starts its work at once (`promise_now`). Neither may be
// visible: the stored message, the errors, the events and the order of calls are those of the
// general path (JSON.stringify + serde, every call queued).
import { test } from "node:test";
import assert from "node:assert/strict";
import { SessionStore } from "agent-sessions";

const open = () => SessionStore.open({ storage: { type: "memory" } });
const shape = ({ id, createdAt, seq, ...rest }) => rest;

test("a plain message and the same message through the general path are stored alike", async () => {
  const store = await open();
  const s = await store.create("fast");
  const plain = await s.addMessage({ role: "user", content: "héllo \u{1F600} \"quoted\"\n" });
  // Three keys (one undefined, which JSON drops), keys in the other order, a null prototype:
  // each goes through JSON.stringify + serde.
  const general = [
    await s.addMessage({ role: "user", content: "héllo \u{1F600} \"quoted\"\n", name: undefined }),
    await s.addMessage({ content: "héllo \u{1F600} \"quoted\"\n", role: "user" }),
    await s.addMessage(Object.assign(Object.create(null), { role: "user", content: "héllo \u{1F600} \"quoted\"\n" })),
  ];
  for (const g of general) assert.deepEqual(shape(g), shape(plain));
  assert.deepEqual((await s.getHistory()).map((m) => m.seq), [0, 1, 2, 3]);
  for (const role of ["system", "assistant"]) {
    const m = await s.addMessage({ role, content: "x" });
    assert.equal(m.role, role);
  }
});

test("refusals are the general path's", async () => {
  const store = await open();
  const s = await store.create("refused");
  const code = async (m) => {
    try {
      await s.addMessage(m);
      return "resolved";
    } catch (e) {
      return `${e.code}: ${e.message}`;
    }
  };
  // An unknown role, a tool message without its call id, a lone surrogate, a throwing getter.
  const cases = [
    [{ role: "robot", content: "x" }, { content: "x", role: "robot" }],
    [{ role: "tool", content: "x" }, { content: "x", role: "tool" }],
    [{ role: "user", content: "a\uD800b" }, { content: "a\uD800b", role: "user" }],
  ];
  for (const [plain, general] of cases) assert.equal(await code(plain), await code(general));
  const throwing = { role: "user", get content() { throw new Error("getter"); } };
  assert.match(await code(throwing), /^INVALID_MESSAGE/);
  assert.equal((await s.getHistory()).length, 0);
});

test("events fire before the call settles, and calls keep their order", async () => {
  const store = await open();
  const s = await store.create("ordered");
  const log = [];
  store.on("message:added", (e) => log.push(`added ${e.message.content}`));
  store.on("session:updated", (e) => log.push(`updated ${e.session.title ?? ""}`));
  await s.addMessage({ role: "user", content: "one" }).then(() => log.push("resolved one"));
  assert.deepEqual(log.splice(0), ["added one", "updated ", "resolved one"]);
  // Not awaited: an update (queued) and then an append; the append runs after the update.
  const p1 = s.update({ title: "T" });
  const p2 = s.addMessage({ role: "user", content: "two" });
  const p3 = s.addMessage({ role: "user", content: "three" });
  await Promise.all([p1, p2, p3]);
  assert.deepEqual(log.filter((l) => l.startsWith("added")), ["added two", "added three"]);
  assert.ok(log.indexOf("updated T") < log.indexOf("added two"), log.join(", "));
  assert.deepEqual((await s.getHistory()).map((m) => m.content), ["one", "two", "three"]);
  assert.equal(s.title, "T");
  // A listener that appends from inside an event: its call waits for the one that emitted.
  const nested = [];
  const off = store.on("message:added", (e) => {
    if (e.message.content === "outer") nested.push(s.addMessage({ role: "assistant", content: "inner" }));
  });
  await s.addMessage({ role: "user", content: "outer" });
  await Promise.all(nested);
  off();
  assert.deepEqual((await s.getHistory()).slice(-2).map((m) => m.content), ["outer", "inner"]);
});
