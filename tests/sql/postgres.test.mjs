// PostgreSQL through the public API, on a real server this file starts and stops
// (tests/sql/pg-server.mjs): `{ type: "postgres", url | pool }` and the seeds' shapes, restart,
// hostile input, a connection killed mid-transaction (pg_terminate_backend), a newer schema,
// crash safety (a Node writer SIGKILLed 10 times) and two Node processes appending to one
// session at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { Agent, SessionStore } from "agent-sessions";
import { startPostgres } from "./pg-server.mjs";
import { checkRounds, content, importWithSummary, killAfter, writer } from "./helpers.mjs";

const llm = { provider: "mock", model: "mock-1" };
let server;
let admin;
const pools = [];
let n = 0;
const prefix = () => `t${++n}_`;

before(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on("error", () => {});
});
after(async () => {
  await Promise.all([admin, ...pools].map((p) => p.end().catch(() => {})));
  server.stop();
});

function pool() {
  const p = new pg.Pool({ connectionString: server.url, max: 4 });
  p.on("error", () => {});
  pools.push(p);
  return p;
}

test("url and pool: a new store and Agent see everything", async () => {
  for (const storage of [
    { type: "postgres", url: server.url, prefix: prefix() },
    { type: "postgres", pool: pool(), prefix: prefix() },
  ]) {
    const store = await SessionStore.open({ storage });
    const s = await store.create("user-1", { title: "Sarah", metadata: { tier: "premium" } });
    for (const c of ["one", "two", "three"]) await s.addMessage({ role: "user", content: c });
    const run = s.createRun();
    run.start();
    await run.complete({ tokensUsed: 7 });
    const agent = new Agent({ store, llm });
    await agent.createSession("chat");
    await agent.generate("My name is Sarah.", "chat");
    await importWithSummary(store, "summed");

    const fresh = storage.pool ? { ...storage, pool: pool() } : storage;
    const again = await SessionStore.open({ storage: fresh });
    const summed = await again.get("summed");
    assert.deepEqual((await summed.getSummaries()).map((x) => x.content), ["The user's name is Sarah."]);
    await again.delete("summed");
    const t = await again.get("user-1");
    assert.equal(t.title, "Sarah");
    assert.deepEqual(t.metadata, { tier: "premium" });
    assert.deepEqual((await t.getHistory()).map((m) => m.content), ["one", "two", "three"]);
    assert.deepEqual((await t.getHistory({ limit: 1 })).map((m) => m.content), ["three"]);
    assert.deepEqual((await t.getRuns()).map((r) => r.status), ["completed"]);
    assert.equal(t.usage.totalTokens, 7);
    const reply = await new Agent({ store: again, llm }).generate("What is my name?", "chat");
    assert.equal(reply.content, "Your name is Sarah.");
    assert.equal(await again.delete("user-1"), true);
    assert.deepEqual(await again.listSessions(), ["chat"]);
  }
});

test("the seeds' shapes: Dexto's postgresql database and Hector's sql driver postgres", async () => {
  const p = prefix();
  const dexto = new Agent({ llm, storage: { database: { type: "postgresql", url: server.url }, cache: { type: "in-memory" }, prefix: p } });
  await dexto.start();
  await dexto.createSession("s1");
  await dexto.generate("My name is Ana.", "s1");
  const hector = await SessionStore.open({ storage: { backend: "sql", sql: { driver: "postgres", database: server.url }, prefix: p } });
  assert.deepEqual(await hector.listSessions(), ["s1"]);
  assert.equal((await (await hector.get("s1")).getHistory()).length, 2);
});

test("quotes, '; DROP TABLE, NUL and 1 MB strings round-trip exactly", async () => {
  const storage = { type: "postgres", pool: pool(), prefix: prefix() };
  const store = await SessionStore.open({ storage });
  const ids = [`it's "quoted"`, "'; DROP TABLE t1_sessions; --", "$1 $$ \\x"];
  const texts = ["a\u0000b", "'; DROP TABLE t1_messages; --", "m".repeat(1 << 20), "\u{1F600}\u2028"];
  for (const id of ids) {
    const s = await store.create(id, { title: id, metadata: { nul: "\u0000", q: "'" } });
    for (const t of texts) await s.addMessage({ role: "user", content: t });
  }
  const again = await SessionStore.open({ storage: { ...storage, pool: pool() } });
  assert.deepEqual((await again.listSessions()).sort(), [...ids].sort());
  for (const id of ids) {
    const s = await again.get(id);
    assert.equal(s.title, id);
    assert.deepEqual(s.metadata, { nul: "\u0000", q: "'" });
    const h = await s.getHistory();
    h.forEach((m, i) => assert.ok(m.content === texts[i], `${JSON.stringify(id)} message ${i}`));
    assert.equal(h.length, texts.length);
  }
});

/** Resolves once a backend other than the admin's waits for an advisory lock; bounded (10 s). */
async function waitingBackend() {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await admin.query(
      "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND pid <> pg_backend_pid()",
    );
    if (rows.length) return rows[0].pid;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error("no backend ever waited for the session lock");
}

test("a connection killed mid-transaction is STORAGE_UNAVAILABLE, nothing half-written, and the store reconnects", async () => {
  const storage = { type: "postgres", pool: pool(), prefix: prefix() };
  const store = await SessionStore.open({ storage });
  const s = await store.create("f");
  await s.addMessage({ role: "user", content: "before" });
  await s.addMessage({ role: "user", content: "kept" });
  const holder = await admin.connect();
  try {
    for (const action of [() => s.addMessage({ role: "user", content: "lost" }), () => s.reset()]) {
      // Another connection holds the session's lock: the append (one statement) or the reset
      // (BEGIN … COMMIT) waits inside its transaction, and its backend is terminated there.
      await holder.query("SELECT pg_advisory_lock(1095975763, hashtext('f'))");
      const pending = action().then(() => "ok", (e) => e);
      const pid = await waitingBackend();
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      const e = await pending;
      assert.equal(e.code, "STORAGE_UNAVAILABLE", String(e.message ?? e));
      assert.equal(e.retryable, true);
      await holder.query("SELECT pg_advisory_unlock(1095975763, hashtext('f'))");
      const fresh = await SessionStore.open({ storage: { ...storage, pool: pool() } });
      assert.deepEqual((await (await fresh.get("f")).getHistory()).map((m) => m.content), ["before", "kept"]);
    }
  } finally {
    holder.release();
  }
  await s.addMessage({ role: "user", content: "after" });
  assert.deepEqual((await s.getHistory()).map((m) => m.content), ["before", "kept", "after"]);
  await s.reset();
  assert.deepEqual(await s.getHistory(), []);
});

test("an unreachable server is STORAGE_UNAVAILABLE", async () => {
  const dead = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:1/postgres", connectionTimeoutMillis: 2000 });
  dead.on("error", () => {});
  await assert.rejects(SessionStore.open({ storage: { type: "postgres", pool: dead } }), { code: "STORAGE_UNAVAILABLE" });
  await dead.end();
});

test("tables of a newer schema version are STORAGE_UNAVAILABLE and left untouched", async () => {
  const p = prefix();
  const storage = { type: "postgres", pool: pool(), prefix: p };
  const s = await (await SessionStore.open({ storage })).create("f");
  await s.addMessage({ role: "user", content: "before" });
  await admin.query(`UPDATE ${p}meta SET value = '2' WHERE key = 'schema_version'`);
  const snapshot = async () => JSON.stringify([
    (await admin.query(`SELECT * FROM ${p}meta ORDER BY key`)).rows,
    (await admin.query(`SELECT * FROM ${p}messages`)).rows,
    (await admin.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE $1 ORDER BY 1", [`${p}%`])).rows,
  ]);
  const before = await snapshot();
  await assert.rejects(SessionStore.open({ storage: { ...storage, pool: pool() } }), (e) => {
    assert.equal(e.code, "STORAGE_UNAVAILABLE");
    assert.match(e.message, /version 2/);
    return true;
  });
  assert.equal(await snapshot(), before);
});

test("crash safety: a Node writer SIGKILLed 10 times mid-loop loses no acknowledged append", async () => {
  const storage = { type: "postgres", url: server.url, prefix: prefix() };
  const json = JSON.stringify(storage);
  const rounds = [];
  for (let r = 0; r < 10; r++) rounds.push(await killAfter([json, "c", String(r), "100000"], 3 + ((r * 7) % 28)));
  const s = await (await SessionStore.open({ storage: { ...storage, url: undefined, pool: pool() } })).get("c");
  const history = await s.getHistory();
  checkRounds(assert, history, rounds);
  assert.equal(s.messageCount, history.length);
  assert.equal(history[0].content, content(0, 0));
});

test("two Node processes appending to one session at once: every message once, one order", async (t) => {
  const storage = { type: "postgres", url: server.url, prefix: prefix() };
  await (await SessionStore.open({ storage: { ...storage, url: undefined, pool: pool() } })).create("shared");
  const json = JSON.stringify(storage);
  const COUNT = 60;
  let ready = 0;
  const writers = [];
  const go = () => {
    if (++ready === 2) for (const w of writers) w.child.stdin.write("go\n");
  };
  for (const r of [0, 1]) writers.push(writer([json, "shared", String(r), String(COUNT), "wait"], (l) => l === "ready" && go()));
  const results = await Promise.all(writers.map((w) => w.exited));
  for (const res of results) assert.equal(res.code, 0, res.stderr);
  const readers = [pool(), pool()].map((p) => SessionStore.open({ storage: { ...storage, url: undefined, pool: p } }));
  const histories = [];
  for (const store of await Promise.all(readers)) histories.push(await (await store.get("shared")).getHistory());
  const [h] = histories;
  assert.equal(h.length, 2 * COUNT, "no loss");
  assert.equal(new Set(h.map((m) => m.content)).size, 2 * COUNT, "no duplicate");
  assert.deepEqual(h.map((m) => m.seq), [...Array(2 * COUNT).keys()], "one gapless order");
  for (const r of [0, 1]) {
    const mine = h.filter((m) => m.content.startsWith(`r${r}-`)).map((m) => m.content);
    assert.deepEqual(mine, [...Array(COUNT).keys()].map((i) => content(r, i)), `writer ${r} in its order`);
  }
  assert.deepEqual(histories[1].map((m) => m.id), h.map((m) => m.id), "every reader sees the same order");
  const switches = h.filter((m, i) => i > 0 && m.content[1] !== h[i - 1].content[1]).length;
  t.diagnostic(`the two writers' messages alternate ${switches} times in the history`);
});

test("the message tree on PostgreSQL (tests/js/tree.cases.mjs): edits, branches, truncation, fork, restart", async () => {
  const { treeCases } = await import("../js/tree.cases.mjs");
  const p = prefix();
  const checks = await treeCases({ SessionStore, Agent }, () => ({ type: "postgres", pool: pool(), prefix: p }));
  assert.ok(checks > 40);
});
