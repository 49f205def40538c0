// Append and restore 2,000 messages through the library on better-sqlite3 and PostgreSQL, side by
// side with the same work written by hand through the same driver: one transaction per message
// (the message row and the session row, in the library's own tables), and one
// `SELECT … ORDER BY seq` whose rows are parsed with JSON.parse.
//
//   node bench/sql.mjs            (after ./scripts/build; starts and stops its own PostgreSQL)
//   RUNS=1 N=50 node bench/sql.mjs   (what the test command runs once, to show it works)
//
// Prints a Markdown table; bench/sql.md records a run. Each figure is the median of RUNS runs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { SessionStore } from "agent-sessions";
import { startPostgres } from "../tests/sql/pg-server.mjs";

const N = Number(process.env.N ?? 2000);
const RUNS = Number(process.env.RUNS ?? 5);
const text = (i) => `message ${i}: ` + "lorem ipsum dolor sit amet ".repeat(8);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

// Each side is set up, then appends in blocks of BLOCK messages, the two sides taking turns
// (which goes first alternates), so that both see the same machine: on a shared VM the disk's
// fsync latency moves by 2× from one second to the next, which a side-after-side run of 2,000
// appends each measured as much as the code.
const BLOCK = Math.min(N, Number(process.env.BLOCK ?? 100));
// Each run's restore is timed this many times per side (interleaved); the figure is the median of
// them all.
const RESTORES = Number(process.env.RESTORES ?? 5);

async function library(storage, reopen) {
  const store = await SessionStore.open({ storage });
  const s = await store.create("bench");
  return {
    async append(from, to) {
      for (let i = from; i < to; i++) await s.addMessage({ role: i % 2 ? "assistant" : "user", content: text(i) });
    },
    async restore() {
      const again = await SessionStore.open({ storage: reopen() });
      const history = await (await again.get("bench")).getHistory();
      if (history.length !== N) throw new Error("library restore lost messages");
    },
  };
}

// By hand: the same tables and indexes as the library's (created by opening a store with the
// prefix), the same JSON records, written with plain prepared statements.
function records(i) {
  const message = JSON.stringify({
    id: `msg_${i.toString(16).padStart(24, "0")}`, sessionId: "bench", seq: i, role: i % 2 ? "assistant" : "user",
    content: text(i), status: "complete", createdAt: Date.now(), tokens: 60,
  });
  const session = JSON.stringify({
    id: "bench", createdAt: 1, updatedAt: Date.now(), metadata: {}, messageCount: i + 1, nextSeq: i + 1,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
  });
  return { message, session };
}

async function sqliteByHand(file) {
  await SessionStore.open({ storage: { type: "sqlite", db: new Database(file), prefix: "h_" } });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.prepare("INSERT INTO h_sessions VALUES ('bench', 1, 1, 0, '{}')").run();
  const insert = db.prepare("INSERT INTO h_messages (session_id, seq, id, data) VALUES ('bench', ?, ?, ?)");
  const update = db.prepare("UPDATE h_sessions SET updated_at = ?, next_seq = ?, data = ? WHERE id = 'bench'");
  return {
    // Synchronous, as better-sqlite3 is: no await between two appends.
    append(from, to) {
      for (let i = from; i < to; i++) {
        const r = records(i);
        db.exec("BEGIN IMMEDIATE");
        insert.run(i, `m${i}`, r.message);
        update.run(Date.now(), i + 1, r.session);
        db.exec("COMMIT");
      }
    },
    restore() {
      const fresh = new Database(file);
      const history = fresh.prepare("SELECT data FROM h_messages WHERE session_id = 'bench' ORDER BY seq").all().map((r) => JSON.parse(r.data));
      if (history.length !== N) throw new Error("hand restore lost messages");
    },
  };
}

async function pgByHand(url, table) {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await SessionStore.open({ storage: { type: "postgres", pool, prefix: table } });
  await pool.query(`INSERT INTO ${table}sessions VALUES ('bench', 1, 1, 0, '{}')`);
  return {
    async append(from, to) {
      for (let i = from; i < to; i++) {
        const r = records(i);
        const c = await pool.connect();
        await c.query("BEGIN");
        await c.query(`INSERT INTO ${table}messages (session_id, seq, id, data) VALUES ('bench', $1, $2, $3)`, [i, `m${i}`, r.message]);
        await c.query(`UPDATE ${table}sessions SET updated_at = $1, next_seq = $2, data = $3 WHERE id = 'bench'`, [Date.now(), i + 1, r.session]);
        await c.query("COMMIT");
        c.release();
      }
    },
    async restore() {
      const fresh = new pg.Pool({ connectionString: url, max: 4 });
      const { rows } = await fresh.query(`SELECT data FROM ${table}messages WHERE session_id = 'bench' ORDER BY seq`);
      const history = rows.map((r) => JSON.parse(r.data));
      await fresh.end();
      if (history.length !== N) throw new Error("hand restore lost messages");
    },
    close: () => pool.end(),
  };
}

async function compare(label, makeLib, makeHand) {
  const l = [], h = [];
  for (let r = 0; r < RUNS; r++) {
    const sides = [{ out: h, side: await makeHand(r), append: 0 }, { out: l, side: await makeLib(r), append: 0 }];
    for (let from = 0, b = 0; from < N; from += BLOCK, b++) {
      for (const x of (b + r) % 2 ? [...sides].reverse() : sides) {
        const t = now();
        await x.side.append(from, Math.min(N, from + BLOCK));
        x.append += now() - t;
      }
    }
    // Restores: a few milliseconds each, so several per run, the sides alternating.
    for (const x of sides) x.restores = [];
    for (let k = 0; k < RESTORES; k++) {
      for (const x of (r + k) % 2 ? [...sides].reverse() : sides) {
        const t = now();
        await x.side.restore();
        x.restores.push(now() - t);
      }
    }
    for (const x of sides) {
      x.out.push({ append: x.append, restores: x.restores });
      await x.side.close?.();
    }
  }
  const m = (xs, k) => median(xs.map((x) => x[k]));
  const mr = (xs) => median(xs.flatMap((x) => x.restores));
  const [la, ha, lr, hr] = [m(l, "append"), m(h, "append"), mr(l), mr(h)];
  return `| ${label} | ${(N / ha * 1000).toFixed(0)} | ${(N / la * 1000).toFixed(0)} | **${(ha / la).toFixed(2)}×** | ${hr.toFixed(1)} | ${lr.toFixed(1)} | **${(lr / hr).toFixed(2)}×** |`;
}

const dir = mkdtempSync(path.join(tmpdir(), "agent-sessions-bench-"));
const shm = mkdtempSync(path.join("/dev/shm", "agent-sessions-bench-"));
const server = await startPostgres();
const lines = [
  `${N} messages, median of ${RUNS} runs; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`,
  "",
  "| driver | by hand: appends/s | library: appends/s | append throughput ratio (≥ 0.8) | by hand: restore ms | library: restore ms | restore time ratio (≤ 1.3) |",
  "|---|---|---|---|---|---|---|",
];
try {
  for (const [where, base] of [["disk", dir], ["tmpfs", shm]]) {
    lines.push(await compare(
      `better-sqlite3 (WAL, synchronous=FULL, ${where})`,
      async (r) => {
        const f = path.join(base, `lib-${r}.db`);
        return library({ type: "sqlite", db: new Database(f) }, () => ({ type: "sqlite", db: new Database(f) }));
      },
      (r) => sqliteByHand(path.join(base, `hand-${r}.db`)),
    ));
  }
  lines.push(await compare(
    "PostgreSQL 15 (pg, one local server)",
    async (r) => {
      const pools = [];
      const pool = () => { const p = new pg.Pool({ connectionString: server.url, max: 4 }); pools.push(p); return p; };
      const side = await library({ type: "postgres", pool: pool(), prefix: `lib${r}_` }, () => ({ type: "postgres", pool: pool(), prefix: `lib${r}_` }));
      return { ...side, close: () => Promise.all(pools.map((p) => p.end())) };
    },
    (r) => pgByHand(server.url, `hand${r}_`),
  ));
  // Context: the library over memory storage (no database at all), the same 2,000 appends and one
  // getHistory(): the part of the figures above that is the library's own per-call path.
  const mem = [];
  for (let r = 0; r < RUNS; r++) {
    const store = await SessionStore.open({ storage: { type: "memory" } });
    const s = await store.create("bench");
    let t = now();
    for (let i = 0; i < N; i++) await s.addMessage({ role: i % 2 ? "assistant" : "user", content: text(i) });
    const append = now() - t;
    t = now();
    await s.getHistory();
    mem.push({ append, restore: now() - t });
  }
  const ma = median(mem.map((x) => x.append)), mr = median(mem.map((x) => x.restore));
  lines.push(`| *(reference: the library over memory storage, no database)* | | ${(N / ma * 1000).toFixed(0)} | | | ${mr.toFixed(1)} | |`);
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
}
console.log(lines.join("\n"));
