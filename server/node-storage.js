// Node storage for the server, from the config's `session_stores`: the library's SQL backend.
// Sessions of each tenant's agent live in their own tables (a table prefix derived from the
// tenant and agent), so tenants never see each other's records, and two tenants may use the
// same session id.
//
// `backend: sql, driver: sqlite`: one database per file for the whole process (better-sqlite3
// when installed, else node:sqlite; WAL, synchronous=FULL: an acknowledged append survives a
// crash), shared by every tenant's store.
// `driver: postgres`: one `pg` pool per database URL (`pg` is an optional peer dependency).
import { createHash } from "node:crypto";
import { sqlOpeners } from "./sql-node.js";

const dbs = new Map();
const pools = new Map();

function configError(message) {
  return Object.assign(new Error(message), { code: "INVALID_CONFIG", name: "AgentSessionsError" });
}

async function openSqlite(path, key) {
  let db = dbs.get(path);
  if (db) return db;
  const { mkdirSync } = await import("node:fs");
  const { dirname } = await import("node:path");
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  // The library's own opener of `{ type: "sqlite", path }`: better-sqlite3 when it is installed
  // and loads on this Node, else node:sqlite (Node >= 22.13, or 22.5+ with --experimental-sqlite).
  try {
    db = await sqlOpeners.sqlite(path);
  } catch (e) {
    if (e.code !== "INVALID_CONFIG") throw e;
    throw configError(
      `${key}.sql.driver: sqlite needs node:sqlite (Node >= 22.13, or 22.5+ with --experimental-sqlite) or the better-sqlite3 package (npm i better-sqlite3); this is Node ${process.versions.node}`,
    );
  }
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  dbs.set(path, db);
  return db;
}

async function openPool(url, key) {
  let pool = pools.get(url);
  if (pool) return pool;
  let pg;
  try {
    pg = await import("pg");
  } catch {
    throw configError(`${key}.sql.driver: postgres needs the \`pg\` package (npm i pg)`);
  }
  pool = new (pg.default ?? pg).Pool({ connectionString: url });
  pools.set(url, pool);
  return pool;
}

/** Table prefix of one tenant's agent: lowercase hex, so any tenant or agent name is safe. */
export function tablePrefix(tenant, agent) {
  return `t${createHash("sha256").update(`${tenant}\0${agent}`).digest("hex").slice(0, 24)}_`;
}

export async function nodeStorage({ tenant, agent, store, storeName }) {
  if (!store || store.backend === "memory") return { type: "memory" };
  const key = `session_stores.${storeName}`;
  const prefix = tablePrefix(tenant, agent);
  if (store.backend === "sql" && store.driver === "sqlite") {
    return { type: "sqlite", db: await openSqlite(store.database, key), prefix };
  }
  if (store.backend === "sql" && (store.driver === "postgres" || store.driver === "postgresql")) {
    return { type: "postgres", pool: await openPool(store.database, key), prefix };
  }
  throw configError(
    `${key}: ${store.backend === "kv" ? "backend kv needs a host key-value store (Workers)" : `driver ${store.driver} is not supported`}; use sql with driver sqlite or postgres, or memory`,
  );
}

export async function closeStorage() {
  for (const db of dbs.values()) db.close();
  dbs.clear();
  const ending = [...pools.values()].map((p) => p.end());
  pools.clear();
  await Promise.all(ending);
}
