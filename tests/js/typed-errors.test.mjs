// Whatever goes wrong at the boundary is an AgentSessionsError with a code a caller can act on:
// constructors that are not meant to be called, user objects whose getters or Proxy traps throw
// while the library reads them, and config errors worded for people (no serde positions).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, Run, Session, SessionStore } from "agent-sessions";

const boom = new Error("boom from a getter");

/** An object every read of which throws `boom`: property reads, key listing, `in`, descriptors. */
const hostile = () => new Proxy({}, {
  get() { throw boom; },
  has() { throw boom; },
  ownKeys() { throw boom; },
  getOwnPropertyDescriptor() { throw boom; },
  getPrototypeOf() { throw boom; },
});

/** `base` plus an enumerable `key` whose getter throws `boom`. */
const throwingGetter = (key, base = {}) => Object.defineProperty(base, key, { enumerable: true, get() { throw boom; } });

/** The check for an error that wraps `boom`: its code, `cause`, and a message naming the read. */
function wraps(code, mentions) {
  return (e) => {
    assert.equal(e.name, "AgentSessionsError", String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.cause, boom, "the original error is the cause");
    assert.match(e.message, /boom from a getter/);
    if (mentions) assert.match(e.message, mentions);
    return true;
  };
}

test("new SessionStore() / new Session() / new Run() say what to call instead", () => {
  const cases = [
    [SessionStore, /SessionStore\.open\(/],
    [Session, /getOrCreate\(|createSession\(/],
    [Run, /createRun\(\)/],
  ];
  for (const [cls, hint] of cases) {
    assert.throws(() => new cls(), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, "AgentSessionsError");
      assert.equal(e.code, "ILLEGAL_CONSTRUCTOR");
      assert.equal(e.retryable, false);
      assert.match(e.message, hint);
      assert.doesNotMatch(e.message, /null pointer/);
      return true;
    }, cls.name);
  }
});

test("handles made by the library still work after the constructors refuse `new`", async () => {
  const store = await SessionStore.open({ storage: { type: "memory" } });
  const s = await store.create("still-works");
  assert.ok(s instanceof Session);
  const run = s.createRun();
  assert.ok(run instanceof Run);
  await run.start();
  assert.equal(run.status, "running");
});

test("a config whose getters or Proxy traps throw is INVALID_CONFIG with the original as cause", async () => {
  assert.throws(() => new Agent(hostile()), wraps("INVALID_CONFIG"));
  assert.throws(() => new Agent({ llm: hostile() }), wraps("INVALID_CONFIG"));
  assert.throws(() => new Agent({ llm: throwingGetter("provider") }), wraps("INVALID_CONFIG", /llm/));
  assert.throws(() => new Agent({ sessions: throwingGetter("maxSessions") }), wraps("INVALID_CONFIG", /sessions/));
  assert.throws(() => new Agent({ storage: hostile() }), wraps("INVALID_CONFIG"));
  assert.throws(() => new Agent({ session: hostile() }), wraps("INVALID_CONFIG"));
  await assert.rejects(SessionStore.open(hostile()), wraps("INVALID_CONFIG"));
  await assert.rejects(SessionStore.open({ storage: throwingGetter("type", {}) }), wraps("INVALID_CONFIG", /type/));
  await assert.rejects(SessionStore.open({ encryption: hostile() }), wraps("INVALID_CONFIG"));
  await assert.rejects(SessionStore.open({ retention: throwingGetter("maxAge") }), wraps("INVALID_CONFIG", /retention/));
  // A host KV object (a Durable Object's storage, a KV namespace, your own) read through a Proxy.
  await assert.rejects(SessionStore.open({ storage: { type: "kv", kv: hostile() } }), wraps("INVALID_CONFIG", /storage\.kv/));
  const kvWithThrowingList = throwingGetter("list", { get: async () => null, put: async () => {}, delete: async () => {} });
  await assert.rejects(SessionStore.open({ storage: { type: "kv", kv: kvWithThrowingList } }), wraps("INVALID_CONFIG", /"list"/));
});

test("a message, metadata or options object that throws is INVALID_MESSAGE / INVALID_METADATA / INVALID_ARGUMENT", async () => {
  const agent = new Agent({ llm: { provider: "mock" }, storage: { type: "memory" } });
  const store = await agent.store();
  const s = await store.create("hostile-inputs");
  await assert.rejects(s.addMessage(hostile()), wraps("INVALID_MESSAGE"));
  await assert.rejects(s.addMessage(throwingGetter("content", { role: "user" })), wraps("INVALID_MESSAGE"));
  await assert.rejects(store.create("md", { metadata: throwingGetter("tier") }), wraps("INVALID_METADATA", /metadata/));
  await assert.rejects(s.update({ metadata: hostile() }), wraps("INVALID_METADATA", /metadata/));
  await assert.rejects(store.create("opts", hostile()), wraps("INVALID_ARGUMENT"));
  await assert.rejects(s.getHistory(hostile()), wraps("INVALID_ARGUMENT"));
  await assert.rejects(agent.generate("hi", hostile()), wraps("INVALID_ARGUMENT", /options/));
  await assert.rejects(store.add({ message: hostile() }, { sessionId: "m" }), wraps("INVALID_MESSAGE"));
  await assert.rejects(store.add({ message: { role: "user", content: "x" } }, hostile()), wraps("INVALID_ARGUMENT"));
  await assert.rejects(store.list(hostile()), wraps("INVALID_ARGUMENT"));
  // Nothing was stored on the way.
  assert.deepEqual(await s.getHistory(), []);
  assert.deepEqual((await store.listSessions()).sort(), ["hostile-inputs"]);
});

test("config errors read as sentences, without serde's line and column", async () => {
  const messages = [];
  const collect = (e) => { messages.push(e.message); return true; };
  assert.throws(() => new Agent({ sessions: { maxSession: 5 } }), collect);
  assert.throws(() => new Agent({ retry: { maxRetries: "two" } }), collect);
  assert.throws(() => new Agent({ llm: { provider: "mock", temprature: 1 } }), collect);
  await assert.rejects(SessionStore.open({ retention: { expireAfter: "soon" } }), collect);
  for (const m of messages) {
    assert.doesNotMatch(m, /line \d+ column \d+/, m);
  }
  assert.match(messages[0], /^sessions: unknown field `maxSession`, expected/);
});
