// Node storage for the server, from the config's `session_stores`. Sessions of each tenant's
// agent live under their own key prefix, so tenants never see each other's records.
//
// `backend: sql, driver: sqlite`: a key-value table in a SQLite file through node:sqlite, used by
// the library's `{ type: "kv" }` backend. When the SQL storage backend lands
// (`{ type: "sqlite", db }`), this becomes `return { type: "sqlite", db, prefix }`: one line.
const dbs = new Map();

async function openSqlite(path, key) {
  let db = dbs.get(path);
  if (db) return db;
  let sqlite;
  try {
    sqlite = await import("node:sqlite");
  } catch {
    throw Object.assign(
      new Error(`${key}.sql.driver: sqlite needs node:sqlite (Node ≥ 22.13, or 22.5+ with --experimental-sqlite); this is Node ${process.versions.node}`),
      { code: "INVALID_CONFIG", name: "AgentSessionsError" },
    );
  }
  const { mkdirSync } = await import("node:fs");
  const { dirname } = await import("node:path");
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  db = new sqlite.DatabaseSync(path);
  // WAL + synchronous=NORMAL: every put is one atomic transaction; a killed process loses nothing
  // that was put, a power cut at most the last puts (never half of one). FULL fsyncs every put,
  // which blocks the event loop (node:sqlite is synchronous) and cut throughput ~10x here.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec("CREATE TABLE IF NOT EXISTS agent_sessions_kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID");
  dbs.set(path, db);
  return db;
}

/** The `{ get, put, delete, list }` the library's kv backend takes, over one SQLite table. */
export function sqliteKv(db) {
  const get = db.prepare("SELECT v FROM agent_sessions_kv WHERE k = ?");
  const put = db.prepare("INSERT INTO agent_sessions_kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
  const del = db.prepare("DELETE FROM agent_sessions_kv WHERE k = ?");
  const list = db.prepare("SELECT k FROM agent_sessions_kv WHERE k >= ? AND k < ? ORDER BY k");
  return {
    async get(k) {
      return get.get(k)?.v ?? null;
    },
    async put(k, v) {
      put.run(k, typeof v === "string" ? v : JSON.stringify(v));
    },
    async delete(k) {
      del.run(k);
    },
    async list({ prefix }) {
      return list.all(prefix, prefix + "\u{10FFFF}").map((r) => r.k);
    },
  };
}

export function closeStorage() {
  for (const db of dbs.values()) db.close();
  dbs.clear();
}

export async function nodeStorage({ tenant, agent, store, storeName }) {
  const prefix = `${store?.prefix ?? "agent-sessions/"}t/${tenant}/a/${agent}/`;
  if (!store || store.backend === "memory") return { type: "memory" };
  if (store.backend === "sql" && store.driver === "sqlite") {
    const db = await openSqlite(store.database, `session_stores.${storeName}`);
    return { type: "kv", kv: sqliteKv(db), prefix };
  }
  throw Object.assign(
    new Error(`session_stores.${storeName}: ${store.backend === "kv" ? "backend kv needs a host key-value store (Workers)" : "driver postgres needs the SQL storage backend, not in this build yet"}; use sql/sqlite or memory`),
    { code: "INVALID_CONFIG", name: "AgentSessionsError" },
  );
}
