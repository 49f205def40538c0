// Storage on the edge, in workerd through miniflare: `{ type: "kv" }` over a real Durable
// Object's `state.storage` and over a real Workers KV namespace binding, taken as they are. Each
// request opens a new store, so everything read back came out of storage: sessions, titles,
// metadata, history, runs, usage, and an Agent's conversation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { entry, worker } from "./worker.mjs";

const script = `
import { Agent, SessionStore } from "${entry}";
import { treeCases } from "../tests/js/tree.cases.mjs";

const llm = { provider: "mock", model: "mock-1" };

async function handle(request, storage) {
  const url = new URL(request.url);
  try {
    const store = await SessionStore.open({ storage });
    if (url.pathname.endsWith("/write")) {
      const s = await store.create("user-1", { title: "Sarah", metadata: { tier: "premium" } });
      for (const content of ["one", "two", "three"]) await s.addMessage({ role: "user", content });
      const run = s.createRun();
      run.start();
      await run.complete({ tokensUsed: 7 });
      await store.create("user/2");
      const agent = new Agent({ storage, llm });
      await agent.createSession("chat");
      await agent.generate("My name is Sarah.", "chat");
      return Response.json({ ok: true });
    }
    if (url.pathname.endsWith("/read")) {
      const s = await store.get("user-1");
      const agent = new Agent({ storage, llm });
      const reply = await agent.generate("What is my name?", "chat");
      return Response.json({
        ids: (await store.listSessions()).sort(),
        title: s.title, metadata: s.metadata, messageCount: s.messageCount, usage: s.usage,
        history: (await s.getHistory()).map((m) => m.content),
        newest: (await s.getHistory({ limit: 2 })).map((m) => m.content),
        runs: (await s.getRuns()).map((r) => r.status),
        reply: reply.content,
        chat: (await agent.getSessionHistory("chat")).map((m) => m.role),
      });
    }
    if (url.pathname.endsWith("/tree")) {
      return Response.json({ checks: await treeCases({ SessionStore, Agent }, () => storage, "t") });
    }
    if (url.pathname.endsWith("/delete")) {
      const deleted = await store.delete("user-1");
      return Response.json({ deleted, ids: (await store.listSessions()).sort() });
    }
    return new Response("not found", { status: 404 });
  } catch (e) {
    return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 500 });
  }
}

export class Sessions {
  constructor(state) { this.state = state; }
  fetch(request) { return handle(request, { type: "kv", kv: this.state.storage, prefix: "as/" }); }
}

export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/do/")) return env.SESSIONS.get(env.SESSIONS.idFromName("one")).fetch(request);
    if (url.pathname.startsWith("/kv/")) return handle(request, { type: "kv", kv: env.KV, prefix: "app/" });
    return new Response("not found", { status: 404 });
  },
};
`;

const held = worker("edge-storage-worker", script, {
  durableObjects: { SESSIONS: "Sessions" },
  kvNamespaces: ["KV"],
});

async function call(url) {
  const res = await held.mf.dispatchFetch(url);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

for (const [label, base] of [["Durable Object storage", "http://w/do"], ["a Workers KV namespace", "http://w/kv"]]) {
  test(`${label}: a new store and Agent per request restore every session`, async () => {
    assert.deepEqual(await call(`${base}/write`), { ok: true });
    const read = await call(`${base}/read`);
    assert.deepEqual(read.ids, ["chat", "user-1", "user/2"]);
    assert.equal(read.title, "Sarah");
    assert.deepEqual(read.metadata, { tier: "premium" });
    assert.equal(read.messageCount, 3);
    assert.equal(read.usage.totalTokens, 7);
    assert.deepEqual(read.history, ["one", "two", "three"]);
    assert.deepEqual(read.newest, ["two", "three"]);
    assert.deepEqual(read.runs, ["completed"]);
    assert.equal(read.reply, "Your name is Sarah.", "the agent remembered across requests");
    assert.deepEqual(read.chat, ["user", "assistant", "user", "assistant"]);
    const del = await call(`${base}/delete`);
    assert.deepEqual(del, { deleted: true, ids: ["chat", "user/2"] });
  });
}

for (const [label, base] of [["Durable Object storage", "http://w/do"], ["a Workers KV namespace", "http://w/kv"]]) {
  test(`${label}: the message tree (tests/js/tree.cases.mjs): edits, branches, truncation, fork, restart`, async () => {
    const body = await call(`${base}/tree`);
    assert.ok(body.checks > 40, JSON.stringify(body));
  });
}

test("the Workers KV namespace holds one key per record under the prefix", async () => {
  const kv = await held.mf.getKVNamespace("KV");
  const { keys } = await kv.list({ prefix: "app/" });
  const names = keys.map((k) => k.name);
  assert.ok(names.includes("app/s/chat"), names.join(" "));
  assert.ok(names.includes("app/s/user%2F2"), "ids are escaped");
  assert.ok(names.includes("app/d/chat/m/0000000000000001"), "one key per message");
  assert.ok(!names.some((n) => n.startsWith("app/d/user-1/") || n === "app/s/user-1"), "a delete leaves nothing");
});
