// SQLite in Node through the public API: `{ type: "sqlite", path | db }` with better-sqlite3 (and
// node:sqlite where this Node has it), the seeds' config shapes, restart, hostile input, faults
// (locked, read-only, full, newer schema) and crash safety (a writer SIGKILLed 10 times).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Agent, SessionStore } from "agent-sessions";
import { checkRounds, content, hasModule, importWithSummary, killAfter, tempDir, writer } from "./helpers.mjs";

const dir = tempDir("sqlite");
let n = 0;
const file = (tag) => path.join(dir, `${tag}-${++n}.db`);
const nodeSqlite = await hasModule("node:sqlite");
// AGENT_SESSIONS_SQLITE=node:sqlite (scripts/test on a Node >= 22.5 whose ABI the installed
// better-sqlite3 was not built for): only the node:sqlite test runs.
const onlyNodeSqlite = process.env.AGENT_SESSIONS_SQLITE === "node:sqlite";
const Database = onlyNodeSqlite ? null : (await import("better-sqlite3")).default;
const skip = onlyNodeSqlite && "AGENT_SESSIONS_SQLITE=node:sqlite: the better-sqlite3 tests run on the Node it was built for";
const llm = { provider: "mock", model: "mock-1" };

/** Writes through one store (and Agent), reads through a new one: everything came from disk. */
async function restartCheck(storage, reopen = () => storage) {
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

  const again = await SessionStore.open({ storage: reopen() });
  const summed = await again.get("summed");
  assert.deepEqual((await summed.getSummaries()).map((x) => [x.content, x.covers]), [["The user's name is Sarah.", ["msg_a"]]]);
  assert.equal(summed.title, "Summed");
  await again.delete("summed");
  const t = await again.get("user-1");
  assert.equal(t.title, "Sarah");
  assert.deepEqual(t.metadata, { tier: "premium" });
  assert.equal(t.messageCount, 3);
  assert.deepEqual((await t.getHistory()).map((m) => m.content), ["one", "two", "three"]);
  assert.deepEqual((await t.getHistory({ limit: 2 })).map((m) => m.content), ["two", "three"]);
  assert.deepEqual((await t.getRuns()).map((r) => r.status), ["completed"]);
  assert.equal(t.usage.totalTokens, 7);
  assert.deepEqual((await again.listSessions()).sort(), ["chat", "user-1"]);
  const agent2 = new Agent({ store: again, llm });
  const reply = await agent2.generate("What is my name?", "chat");
  assert.equal(reply.content, "Your name is Sarah.", "the agent remembered across a restart");
  assert.equal(await again.delete("user-1"), true);
  const third = await SessionStore.open({ storage: reopen() });
  assert.deepEqual(await third.listSessions(), ["chat"]);
}

test("a path opens better-sqlite3 (installed here); a new store sees everything", { skip }, async () => {
  const p = file("path");
  await restartCheck({ type: "sqlite", path: p });
  const db = new Database(p, { readonly: true });
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal", "WAL mode");
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  assert.deepEqual(tables, [
    "agent_sessions_messages", "agent_sessions_meta", "agent_sessions_runs",
    "agent_sessions_sessions", "agent_sessions_summaries",
  ]);
  assert.equal(db.prepare("SELECT value FROM agent_sessions_meta WHERE key = 'schema_version'").pluck().get(), "1");
  db.close();
});

test("a better-sqlite3 Database passed as db; a prefix keeps two stores apart", { skip }, async () => {
  const p = file("db");
  await restartCheck({ type: "sqlite", db: new Database(p) }, () => ({ type: "sqlite", db: new Database(p) }));
  const a = await SessionStore.open({ storage: { type: "sqlite", db: new Database(p), prefix: "other_" } });
  assert.deepEqual(await a.listSessions(), []);
});

test("node:sqlite DatabaseSync passed as db, and by path where better-sqlite3 is not installed", { skip: !nodeSqlite && "this Node has no node:sqlite (Node >= 22.5)" }, async () => {
  const { DatabaseSync } = await import("node:sqlite");
  const p = file("node-sqlite");
  await restartCheck({ type: "sqlite", db: new DatabaseSync(p) }, () => ({ type: "sqlite", db: new DatabaseSync(p) }));
  const mode = new DatabaseSync(p, { readOnly: true }).prepare("PRAGMA journal_mode").get();
  assert.equal(mode.journal_mode, "wal", "WAL mode");
  if (onlyNodeSqlite) {
    // better-sqlite3 cannot load on this Node: a path opens node:sqlite.
    await restartCheck({ type: "sqlite", path: file("node-sqlite-path") });
  }
});

test("the seeds' shapes: Dexto's storage.database and Hector's session_stores entry", { skip }, async () => {
  const p = file("dexto");
  const dexto = { database: { type: "sqlite", path: p }, cache: { type: "in-memory" } };
  const agent = new Agent({ llm, storage: dexto });
  await agent.start();
  await agent.createSession("user-sarah-2024");
  await agent.generate("My name is Sarah.", "user-sarah-2024");
  const later = new Agent({ llm, storage: dexto });
  await later.start();
  assert.deepEqual(await later.listSessions(), ["user-sarah-2024"]);
  assert.equal((await later.generate("What is my name?", "user-sarah-2024")).content, "Your name is Sarah.");

  const hector = { backend: "sql", sql: { driver: "sqlite", database: p } };
  const store = await SessionStore.open({ storage: hector });
  assert.deepEqual(await store.listSessions(), ["user-sarah-2024"], "same tables, same data");
  const memory = await SessionStore.open({ storage: { database: { type: "in-memory" } } });
  assert.deepEqual(await memory.listSessions(), []);
});

test("unsupported or malformed SQL configs are INVALID_CONFIG, saying what is supported", { skip }, async () => {
  const p = file("bad");
  const cases = [
    [{ database: { type: "sqlite", path: p }, cache: { type: "redis", host: "localhost" } }, /in-memory/],
    [{ database: { type: "mysql", url: "mysql://x" } }, /sqlite, postgres/],
    [{ backend: "sql", sql: { driver: "mysql", database: "x" } }, /sqlite or postgres/],
    [{ backend: "sql", sql: { driver: "sqlite" } }, /database/],
    [{ type: "sqlite" }, /db .* or path/],
    [{ type: "sqlite", path: p, db: new Database(p) }, /one of them/],
    [{ type: "sqlite", db: {} }, /Durable Object/],
    [{ type: "sqlite", db: { get() {}, put() {} } }, /D1/],
    [{ type: "sqlite", path: p, prefix: "x; DROP TABLE y" }, /prefix/],
    [{ type: "sqlite", path: p, name: "typo" }, /no option "name"/],
    [{ type: "postgres" }, /url .* or pool/],
    [{ type: "postgres", pool: { query() {} } }, /pg\.Pool/],
  ];
  for (const [storage, message] of cases) {
    await assert.rejects(SessionStore.open({ storage }), (e) => {
      assert.equal(e.name, "AgentSessionsError");
      assert.equal(e.code, "INVALID_CONFIG", e.message);
      assert.match(e.message, message);
      return true;
    }, JSON.stringify(storage));
  }
});

test("quotes, '; DROP TABLE, NUL and 1 MB strings round-trip exactly", { skip }, async () => {
  const p = file("hostile");
  const storage = { type: "sqlite", path: p };
  const store = await SessionStore.open({ storage });
  const ids = [`it's "quoted"`, "'; DROP TABLE agent_sessions_sessions; --", "x') OR ('1'='1", "ü 🙂 \\ %_"];
  const texts = ["a\u0000b", "'; DROP TABLE agent_sessions_messages; --", `"'\`\\`, "m".repeat(1 << 20), "\u{1F600}\u2028\uFFFF"];
  for (const id of ids) {
    const s = await store.create(id, { title: id, metadata: { q: "'\"", nul: "\u0000" } });
    for (const t of texts) await s.addMessage({ role: "user", content: t });
  }
  const again = await SessionStore.open({ storage });
  assert.deepEqual((await again.listSessions()).sort(), [...ids].sort());
  for (const id of ids) {
    const s = await again.get(id);
    assert.equal(s.title, id);
    assert.deepEqual(s.metadata, { q: "'\"", nul: "\u0000" });
    const h = await s.getHistory();
    assert.equal(h.length, texts.length);
    h.forEach((m, i) => assert.ok(m.content === texts[i], `${JSON.stringify(id)} message ${i}`));
  }
});

// getHistory() hands records that are exactly their public form to JavaScript as they are
// (src/platform/records.js) and decodes any other in Rust. Records written by hand into the
// table, in every shape a record can take: the answer is what decoding gives, whichever path.
test("stored records read back exactly as decoding them gives: defaults filled, nulls and unknown fields dropped, damage STORAGE_CORRUPT", { skip }, async () => {
  const p = file("records");
  const store = await SessionStore.open({ storage: { type: "sqlite", path: p } });
  const s = await store.create("r");
  const written = await s.addMessage({ role: "user", content: "as written", metadata: { b: 1, a: [true, null] } });
  const db = new Database(p);
  const base = { sessionId: "r", role: "assistant", content: "x", status: "complete", createdAt: 1733000000000, tokens: 3 };
  const put = (seq, record) => db.prepare("INSERT OR REPLACE INTO agent_sessions_messages (session_id, seq, id, data) VALUES ('r', ?, ?, ?)")
    .run(seq, `m${seq}`, typeof record === "string" ? record : JSON.stringify({ id: `m${seq}`, seq, ...record }));
  const history = async (limit) => (await (await SessionStore.open({ storage: { type: "sqlite", db: new Database(p) } })).get("r")).getHistory(limit ? { limit } : undefined);
  const expected = (seq, extra = {}) => ({ id: `m${seq}`, seq, ...base, ...extra });

  // Every record in its public form (the fast path): exactly what was stored, in order; newest-N too.
  put(1, base);
  put(2, { ...base, name: "bot", toolCalls: [{ id: "c1", name: "f", arguments: "{}" }], runId: "run_1", metadata: { k: "v" } });
  put(3, { ...base, role: "tool", toolCallId: "c1", status: "interrupted", payload: [{ type: "text", text: "x" }, 7] });
  const good = [written, expected(1), expected(2, { name: "bot", toolCalls: [{ id: "c1", name: "f", arguments: "{}" }], runId: "run_1", metadata: { k: "v" } }), expected(3, { role: "tool", toolCallId: "c1", status: "interrupted", payload: [{ type: "text", text: "x" }, 7] })];
  assert.deepEqual(await history(), good);
  assert.deepEqual(await history(2), good.slice(2));
  // Handed over as stored, not decoded: decoding would sort metadata keys (serde's map).
  put(3, { ...base, role: "tool", toolCallId: "c1", status: "interrupted", metadata: { z: 1, a: 2 } });
  assert.deepEqual(Object.keys((await history()).at(-1).metadata), ["z", "a"]);
  put(3, { ...base, role: "tool", toolCallId: "c1", status: "interrupted", payload: [{ type: "text", text: "x" }, 7] });

  // Each shape that is not the public form makes the whole read decode in Rust, which fills
  // defaults and drops what it does not know: the same answer as if it had been written canonically.
  const variants = [
    [{ ...base, status: undefined }, {}], // status defaults to complete
    [{ ...base, tokens: undefined }, { tokens: 0 }],
    [{ ...base, name: null, toolCallId: null, runId: null, metadata: null, payload: null }, {}],
    [{ ...base, toolCalls: [] }, {}],
    [{ ...base, unknown: { deep: 1 } }, {}],
    [{ ...base, toolCalls: [{ id: "c", name: "g" }] }, { toolCalls: [{ id: "c", name: "g", arguments: "" }] }],
  ];
  for (const [record, extra] of variants) {
    put(4, record);
    assert.deepEqual(await history(), [...good, expected(4, extra)], JSON.stringify(record));
    assert.deepEqual(await history(1), [expected(4, extra)], JSON.stringify(record));
  }

  // Damage is STORAGE_CORRUPT naming the session, whichever record holds it.
  for (const bad of ["{not json", JSON.stringify({ id: "m4", seq: 4, ...base, sessionId: "other" }), JSON.stringify({ id: "m4", seq: 4, ...base, role: "wizard" }), JSON.stringify({ id: "m4", seq: 4, ...base, content: 5 }), "[]"]) {
    put(4, bad);
    await assert.rejects(history(), (e) => e.code === "STORAGE_CORRUPT" && e.sessionId === "r", bad);
  }
  db.close();
});

test("encryption at rest works over SQLite unchanged: no plaintext in the rows", { skip }, async () => {
  const p = file("sealed");
  const storage = { type: "sqlite", path: p };
  const encryption = { passphrase: "s3cret", iterations: 1000 };
  const store = await SessionStore.open({ storage, encryption });
  const s = await store.create("e1", { title: "Private title" });
  await s.addMessage({ role: "user", content: "my secret plan" });
  const again = await SessionStore.open({ storage, encryption });
  assert.equal((await (await again.get("e1")).getHistory())[0].content, "my secret plan");
  const db = new Database(p, { readonly: true });
  const rows = JSON.stringify([
    db.prepare("SELECT * FROM agent_sessions_messages").all(),
    db.prepare("SELECT * FROM agent_sessions_sessions").all(),
  ]);
  assert.ok(!rows.includes("secret plan") && !rows.includes("Private title"), rows.slice(0, 300));
  await assert.rejects(SessionStore.open({ storage, encryption: { passphrase: "wrong", iterations: 1000 } }), { code: "WRONG_KEY" });
});

/** A store over `db` with session "f" holding one message. */
async function faultStore(db) {
  const store = await SessionStore.open({ storage: { type: "sqlite", db } });
  const s = await store.create("f");
  await s.addMessage({ role: "user", content: "before" });
  return { store, s };
}

async function historyOf(p) {
  const store = await SessionStore.open({ storage: { type: "sqlite", db: new Database(p, { readonly: true }) } });
  return (await (await store.get("f")).getHistory()).map((m) => m.content);
}

test("a locked database is STORAGE_UNAVAILABLE (retryable), nothing written, usable after", { skip }, async () => {
  const p = file("locked");
  const { s } = await faultStore(new Database(p, { timeout: 0 }));
  const other = new Database(p);
  other.exec("BEGIN EXCLUSIVE");
  await assert.rejects(s.addMessage({ role: "user", content: "blocked" }), (e) => {
    assert.equal(e.code, "STORAGE_UNAVAILABLE", e.message);
    assert.equal(e.retryable, true);
    return true;
  });
  other.exec("COMMIT");
  other.close();
  assert.deepEqual(await historyOf(p), ["before"]);
  await s.addMessage({ role: "user", content: "after" });
  assert.deepEqual((await s.getHistory()).map((m) => m.content), ["before", "after"]);
  assert.deepEqual(await historyOf(p), ["before", "after"]);
});

test("a read-only database is STORAGE_UNAVAILABLE, reads still work, usable once writable", { skip }, async () => {
  const p = file("readonly");
  const db = new Database(p);
  const { s } = await faultStore(db);
  db.pragma("query_only = ON");
  await assert.rejects(s.addMessage({ role: "user", content: "refused" }), { code: "STORAGE_UNAVAILABLE" });
  await assert.rejects(s.update({ title: "t" }), { code: "STORAGE_UNAVAILABLE" });
  assert.deepEqual((await s.getHistory()).map((m) => m.content), ["before"]);
  db.pragma("query_only = OFF");
  await s.addMessage({ role: "user", content: "after" });
  assert.deepEqual(await historyOf(p), ["before", "after"]);
  // A database opened read-only by the host: STORAGE_UNAVAILABLE on write, history readable.
  const ro = await SessionStore.open({ storage: { type: "sqlite", db: new Database(p, { readonly: true }) } });
  const f = await ro.get("f");
  await assert.rejects(f.addMessage({ role: "user", content: "no" }), { code: "STORAGE_UNAVAILABLE" });
  assert.deepEqual((await f.getHistory()).map((m) => m.content), ["before", "after"]);
});

test("a full database (SQLITE_FULL) is STORAGE_QUOTA, nothing half-written, usable once there is room", { skip }, async () => {
  const p = file("full");
  const db = new Database(p);
  const { s } = await faultStore(db);
  const pages = db.pragma("page_count", { simple: true });
  db.pragma(`max_page_count = ${pages + 4}`);
  const big = "z".repeat(256 * 1024);
  await assert.rejects(s.addMessage({ role: "user", content: big }), (e) => {
    assert.equal(e.code, "STORAGE_QUOTA", e.message);
    return true;
  });
  assert.deepEqual(await historyOf(p), ["before"], "nothing of the failed append");
  assert.equal((await s.getHistory()).length, 1);
  db.pragma("max_page_count = 1073741823");
  await s.addMessage({ role: "user", content: big });
  const h = await historyOf(p);
  assert.equal(h.length, 2);
  assert.equal(h[1], big);
});

test("tables of a newer schema version are STORAGE_UNAVAILABLE and left untouched", { skip }, async () => {
  const p = file("newer");
  await faultStore(new Database(p));
  const raw = new Database(p);
  raw.prepare("UPDATE agent_sessions_meta SET value = '99' WHERE key = 'schema_version'").run();
  const snapshot = () => JSON.stringify([
    raw.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(),
    raw.prepare("SELECT * FROM agent_sessions_meta ORDER BY key").all(),
    raw.prepare("SELECT * FROM agent_sessions_sessions").all(),
    raw.prepare("SELECT * FROM agent_sessions_messages").all(),
  ]);
  const before = snapshot();
  await assert.rejects(SessionStore.open({ storage: { type: "sqlite", path: p } }), (e) => {
    assert.equal(e.code, "STORAGE_UNAVAILABLE");
    assert.match(e.message, /version 99/);
    return true;
  });
  assert.equal(snapshot(), before, "nothing changed");
  raw.prepare("UPDATE agent_sessions_meta SET value = '1' WHERE key = 'schema_version'").run();
  assert.deepEqual(await historyOf(p), ["before"]);
});

test("crash safety: a writer SIGKILLed 10 times mid-loop loses no acknowledged append", { skip }, async () => {
  const p = file("crash");
  const storage = JSON.stringify({ type: "sqlite", path: p });
  const rounds = [];
  for (let r = 0; r < 10; r++) {
    // Kill after 3..30 acknowledged appends; the next append is in flight.
    rounds.push(await killAfter([storage, "c", String(r), "100000"], 3 + ((r * 7) % 28)));
  }
  const store = await SessionStore.open({ storage: JSON.parse(storage) });
  const s = await store.get("c");
  const history = await s.getHistory();
  checkRounds(assert, history, rounds);
  assert.equal(s.messageCount, history.length, "the session row counts exactly what is there");
  assert.ok(history.every((m) => m.content.endsWith("-end")), "whole");
  assert.equal(content(0, 0), history[0].content);
});

test("two Node processes appending to one SQLite file at once: every message once, one order", { skip }, async () => {
  const p = file("shared");
  const storage = { type: "sqlite", path: p };
  await (await SessionStore.open({ storage })).create("shared");
  const COUNT = 60;
  let ready = 0;
  const writers = [];
  const go = () => {
    if (++ready === 2) for (const w of writers) w.child.stdin.write("go\n");
  };
  for (const r of [0, 1]) {
    writers.push(writer([JSON.stringify(storage), "shared", String(r), String(COUNT), "wait"], (l) => l === "ready" && go()));
  }
  for (const res of await Promise.all(writers.map((w) => w.exited))) assert.equal(res.code, 0, res.stderr);
  const h = await (await (await SessionStore.open({ storage })).get("shared")).getHistory();
  assert.equal(h.length, 2 * COUNT, "no loss");
  assert.equal(new Set(h.map((m) => m.content)).size, 2 * COUNT, "no duplicate");
  assert.deepEqual(h.map((m) => m.seq), [...Array(2 * COUNT).keys()], "one gapless order");
  for (const r of [0, 1]) {
    const mine = h.filter((m) => m.content.startsWith(`r${r}-`)).map((m) => m.content);
    assert.deepEqual(mine, [...Array(COUNT).keys()].map((i) => content(r, i)), `writer ${r} in its order`);
  }
});

test("the message tree on SQLite (tests/js/tree.cases.mjs): edits, branches, truncation, fork, restart", { skip }, async () => {
  const { treeCases } = await import("../js/tree.cases.mjs");
  const p = file("tree");
  const checks = await treeCases({ SessionStore, Agent }, () => ({ type: "sqlite", path: p }));
  assert.ok(checks > 40);
});

test("a SQLite database written by the version before the tree (tests/fixtures/v1/sqlite.db) is edited in place", { skip }, async () => {
  const { copyFileSync, readFileSync } = await import("node:fs");
  const fixture = JSON.parse(readFileSync(new URL("../fixtures/v1/kv.json", import.meta.url), "utf8"));
  const p = file("v1");
  copyFileSync(new URL("../fixtures/v1/sqlite.db", import.meta.url), p);
  const store = await SessionStore.open({ storage: { type: "sqlite", path: p } });
  const s = await store.get(fixture.session);
  const old = await s.getHistory();
  assert.deepEqual(old.map((m) => m.content), fixture.history, "the old history reads as it was written");
  const rows = () => new Database(p, { readonly: true }).prepare("SELECT seq, data FROM agent_sessions_messages ORDER BY seq").all();
  const before = rows();
  await s.editMessage(old[0].id, { content: "My name is Bo." });
  const agent = new Agent({ store, llm });
  assert.equal((await agent.generate("What is my name?", fixture.session)).content, "Your name is Bo.");
  const again = await SessionStore.open({ storage: { type: "sqlite", path: p } });
  const t = await again.get(fixture.session);
  assert.deepEqual((await t.getBranches(old[0].id)).map((m) => m.content), [fixture.history[0], "My name is Bo."]);
  assert.deepEqual((await t.switchBranch(old.at(-1).id)).map((m) => m.id), old.map((m) => m.id));
  assert.deepEqual(rows().slice(0, before.length), before, "no old row was rewritten");
});
