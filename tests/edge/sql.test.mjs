// SQL storage on the edge, in workerd through miniflare: `{ type: "sqlite", db }` over a real
// SQLite-backed Durable Object (its `ctx.storage`, and its `ctx.storage.sql` alone) and over a
// real D1 binding. Restart is a new workerd over the same persisted files; two requests to one
// Durable Object interleave their appends to one session; hostile input round-trips; a newer
// schema is refused.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { entry } from "./worker.mjs";
import { moduleWorkerOptions } from "../support/workerd.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const persist = mkdtempSync(path.join(tmpdir(), "agent-sessions-edge-sql-"));
after(() => rmSync(persist, { recursive: true, force: true }));

const script = `
import { Agent, SessionStore } from "${entry}";
import { treeCases } from "../tests/js/tree.cases.mjs";

const llm = { provider: "mock", model: "mock-1" };
const tick = () => new Promise((ok) => setTimeout(ok, 0));
// Both requests start appending only once both have arrived (bounded: 10 s).
const waiting = new Map();
function barrier(key, n) {
  const b = waiting.get(key) ?? { count: 0, release: null, done: null };
  if (!b.done) b.done = new Promise((ok) => { b.release = ok; setTimeout(ok, 10000); });
  waiting.set(key, b);
  if (++b.count === n) { waiting.delete(key); b.release(); }
  return b.done;
}

async function handle(request, storage, raw) {
  const url = new URL(request.url);
  const op = url.pathname.split("/").pop();
  const q = (k) => url.searchParams.get(k);
  try {
    if (op === "schema") {
      await raw("UPDATE agent_sessions_meta SET value = ? WHERE key = 'schema_version'", q("v"));
      return Response.json({ ok: true });
    }
    const store = await SessionStore.open({ storage });
    if (op === "write") {
      const s = await store.create("user-1", { title: "Sarah", metadata: { tier: "premium" } });
      for (const content of ["one", "two", "three"]) await s.addMessage({ role: "user", content });
      const run = s.createRun();
      run.start();
      await run.complete({ tokensUsed: 7 });
      await store.create("user/2");
      const agent = new Agent({ store, llm });
      await agent.createSession("chat");
      await agent.generate("My name is Sarah.", "chat");
      await store.importSession({
        format: "agent-sessions/session", version: 1, exportedAt: 1,
        session: { id: "summed", title: "Summed", metadata: {}, createdAt: 1, updatedAt: 2, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } },
        messages: [{ id: "msg_a", sessionId: "summed", seq: 0, role: "user", content: "My name is Sarah.", status: "complete", createdAt: 1, tokens: 5 }],
        runs: [],
        summaries: [{ id: "sum_a", sessionId: "summed", content: "The user's name is Sarah.", covers: ["msg_a"], throughSeq: 0, tokens: 6, createdAt: 3 }],
      });
      return Response.json({ ok: true });
    }
    if (op === "read") {
      const s = await store.get("user-1");
      const agent = new Agent({ store, llm });
      const reply = await agent.generate("What is my name?", "chat");
      return Response.json({
        ids: (await store.listSessions()).sort(),
        title: s.title, metadata: s.metadata, messageCount: s.messageCount, usage: s.usage,
        history: (await s.getHistory()).map((m) => m.content),
        newest: (await s.getHistory({ limit: 2 })).map((m) => m.content),
        runs: (await s.getRuns()).map((r) => r.status),
        reply: reply.content,
        summaries: (await (await store.get("summed")).getSummaries()).map((x) => x.content),
      });
    }
    if (op === "append") {
      const s = await store.getOrCreate(q("session"));
      await barrier(url.pathname + q("session"), 2);
      for (let i = 0; i < Number(q("count")); i++) {
        await s.addMessage({ role: "user", content: q("writer") + "-" + i });
        await tick();
      }
      return Response.json({ ok: true });
    }
    if (op === "hostile") {
      const ids = [\`it's "q"\`, "'; DROP TABLE agent_sessions_sessions; --"];
      const texts = ["a\\u0000b", "'; DROP TABLE agent_sessions_messages; --", "m".repeat(1 << 20)];
      for (const id of ids) {
        const s = await store.create(id, { title: id });
        for (const t of texts) await s.addMessage({ role: "user", content: t });
      }
      const again = await SessionStore.open({ storage });
      const out = [];
      for (const id of ids) {
        const s = await again.get(id);
        const h = await s.getHistory();
        out.push(s.title === id && h.length === texts.length && h.every((m, i) => m.content === texts[i]));
      }
      return Response.json({ out, ids: (await again.listSessions()).sort() });
    }
    if (op === "tree") {
      return Response.json({ checks: await treeCases({ SessionStore, Agent }, () => storage, "t") });
    }
    if (op === "history") {
      const s = await store.get(q("session"));
      return Response.json({ history: (await s.getHistory()).map((m) => [m.seq, m.content]), count: s.messageCount });
    }
    return new Response("not found", { status: 404 });
  } catch (e) {
    return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 500 });
  }
}

export class Sessions {
  constructor(ctx) { this.ctx = ctx; }
  fetch(request) {
    // ctx.storage (atomic batches through transactionSync) or ctx.storage.sql alone.
    const db = new URL(request.url).pathname.startsWith("/do-sql/") ? this.ctx.storage.sql : this.ctx.storage;
    const raw = async (sql, ...args) => { this.ctx.storage.sql.exec(sql, ...args); };
    return handle(request, { type: "sqlite", db }, raw);
  }
}

export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/do")) {
      const name = url.pathname.split("/")[2];
      return env.SESSIONS.get(env.SESSIONS.idFromName(name)).fetch(request);
    }
    const raw = (sql, ...args) => env.DB.prepare(sql).bind(...args).run();
    if (url.pathname.startsWith("/d1/")) return handle(request, { type: "sqlite", db: env.DB }, raw);
    return new Response("not found", { status: 404 });
  },
};
`;

const scriptPath = path.join(root, "test-output", "edge-sql-worker.js");
mkdirSync(path.dirname(scriptPath), { recursive: true });
writeFileSync(scriptPath, script);

function start() {
  return new Miniflare({
    scriptPath,
    ...moduleWorkerOptions(root),
    durableObjects: { SESSIONS: { className: "Sessions", useSQLite: true } },
    d1Databases: ["DB"],
    durableObjectsPersist: path.join(persist, "do"),
    d1Persist: path.join(persist, "d1"),
  });
}

let mf = start();
after(() => mf?.dispose());

async function call(url, status = 200) {
  const res = await mf.dispatchFetch(url);
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  return body;
}

const places = [
  ["a Durable Object's ctx.storage", "http://w/do/one"],
  ["a Durable Object's ctx.storage.sql", "http://w/do-sql/two"],
  ["a D1 binding", "http://w/d1"],
];

test("written, workerd restarted on the same files, read back: every session, and the agent remembers", async () => {
  for (const [, base] of places) assert.deepEqual(await call(`${base}/write`), { ok: true });
  await mf.dispose();
  mf = start();
  for (const [label, base] of places) {
    const read = await call(`${base}/read`);
    assert.deepEqual(read.ids, ["chat", "summed", "user-1", "user/2"], label);
    assert.deepEqual(read.summaries, ["The user's name is Sarah."]);
    assert.equal(read.title, "Sarah");
    assert.deepEqual(read.metadata, { tier: "premium" });
    assert.equal(read.messageCount, 3);
    assert.equal(read.usage.totalTokens, 7);
    assert.deepEqual(read.history, ["one", "two", "three"]);
    assert.deepEqual(read.newest, ["two", "three"]);
    assert.deepEqual(read.runs, ["completed"]);
    assert.equal(read.reply, "Your name is Sarah.", `${label}: the agent remembered`);
  }
});

for (const [label, base] of places) {
  test(`${label}: two requests interleaving appends to one session: every message once, one order`, async () => {
    const N = 25;
    await Promise.all(["a", "b"].map((w) => call(`${base}/append?session=shared&writer=${w}&count=${N}`)));
    const { history, count } = await call(`${base}/history?session=shared`);
    assert.equal(history.length, 2 * N, "no loss");
    assert.equal(count, 2 * N);
    assert.deepEqual(history.map(([seq]) => seq), [...Array(2 * N).keys()], "one gapless order");
    assert.equal(new Set(history.map(([, c]) => c)).size, 2 * N, "no duplicate");
    for (const w of ["a", "b"]) {
      const mine = history.map(([, c]) => c).filter((c) => c.startsWith(`${w}-`));
      assert.deepEqual(mine, [...Array(N).keys()].map((i) => `${w}-${i}`));
    }
    const switches = history.filter(([, c], i) => i > 0 && c[0] !== history[i - 1][1][0]).length;
    assert.ok(switches > 1, `the requests interleaved (${switches} switches)`);
  });

  test(`${label}: quotes, '; DROP TABLE, NUL and 1 MB strings round-trip`, async () => {
    const { out, ids } = await call(`${base}/hostile`);
    assert.deepEqual(out, [true, true]);
    assert.ok(ids.includes("'; DROP TABLE agent_sessions_sessions; --"));
  });

  test(`${label}: tables of a newer schema version are STORAGE_UNAVAILABLE, untouched`, async () => {
    await call(`${base}/schema?v=7`);
    const refused = await call(`${base}/read`, 500);
    assert.equal(refused.code, "STORAGE_UNAVAILABLE");
    assert.match(refused.message, /version 7/);
    await call(`${base}/schema?v=1`);
    assert.equal((await call(`${base}/history?session=user-1`)).count, 3, "data intact");
  });
}

test("the message tree (tests/js/tree.cases.mjs) on each: edits, branches, truncation, fork, restart", async () => {
  for (const [label, base] of places) {
    const body = await call(`${base.replace("/one", "/tree-a").replace("/two", "/tree-b")}/tree`);
    assert.ok(body.checks > 40, `${label}: ${JSON.stringify(body)}`);
  }
});
