//! The storage conformance suite over real SQL databases, from Node (`wasm-pack test --node
//! --test sql_node`): SQLite through better-sqlite3 (or node:sqlite with
//! `AGENT_SESSIONS_SQLITE=node:sqlite`, on Node >= 22.5) and PostgreSQL (a server started by
//! `tests/sql/pg-server.mjs` for this process and stopped when it exits). Every "new instance"
//! opens a new database handle (a new file handle, a new pool): a real restart. The Durable
//! Object and D1 hosts run the same suite inside workerd (`tests/sql_workerd.rs`).
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod store_contract;

use std::rc::Rc;

use agent_sessions::core::store::{SqlStore, Store};
use agent_sessions::platform::sql_host::HostSql;
use futures_util::FutureExt;
use wasm_bindgen::prelude::*;

use store_contract::{Backend, Damage};

#[wasm_bindgen(inline_js = r#"
// The snippet runs from a temp dir: packages are resolved from the crate root.
const root = process.cwd();
const fileUrl = (p) => "file://" + p;
import { createRequire } from "node:module";
const load = createRequire(root + "/package.json");
let counter = 0;
export function uniquePrefix(tag) { counter += 1; return `t${process.pid}_${tag}${counter}_`; }
export function sqliteDriver() { return process.env.AGENT_SESSIONS_SQLITE || "better-sqlite3"; }
export async function tempPath(tag) {
  const fs = await import("node:fs");
  const os = await import("node:os");
  // tmpfs where there is one: the suite's 10,000 commits each fsync (synchronous = FULL).
  const base = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const dir = fs.mkdtempSync(base + "/agent-sessions-sql-");
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return `${dir}/${tag}.db`;
}
export async function openSqlite(path) {
  if (sqliteDriver() === "node:sqlite") {
    const { DatabaseSync } = await import("node:sqlite");
    return new DatabaseSync(path);
  }
  const Database = load("better-sqlite3");
  return new Database(path);
}
export function sqliteRaw(db, q, a, b) {
  const st = db.prepare(q);
  return b === undefined ? st.run(a) : st.run(a, b);
}
let pg = null;
export async function pgPool() {
  const { sharedPostgres } = await import(fileUrl(root + "/tests/sql/pg-server.mjs"));
  const server = await sharedPostgres();
  pg ??= load("pg");
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on("error", () => {});
  return pool;
}
export async function pgRaw(pool, q, a, b) {
  await pool.query(q, b === undefined ? [a] : [a, b]);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = uniquePrefix)]
    fn unique_prefix(tag: &str) -> String;
    #[wasm_bindgen(js_name = sqliteDriver)]
    fn sqlite_driver() -> String;
    #[wasm_bindgen(js_name = tempPath)]
    async fn temp_path(tag: &str) -> JsValue;
    #[wasm_bindgen(js_name = openSqlite)]
    async fn open_sqlite(path: &str) -> JsValue;
    #[wasm_bindgen(js_name = sqliteRaw)]
    fn sqlite_raw(db: &JsValue, sql: &str, a: &JsValue, b: &JsValue);
    #[wasm_bindgen(js_name = pgPool)]
    async fn pg_pool() -> JsValue;
    #[wasm_bindgen(js_name = pgRaw)]
    async fn pg_raw(pool: &JsValue, sql: &str, a: &JsValue, b: &JsValue);
}

async fn open_store(host: JsValue, postgres: bool, prefix: &str) -> Rc<dyn Store> {
    let host = if postgres {
        HostSql::postgres(host)
    } else {
        HostSql::sqlite(host)
    }
    .expect("a database of a known shape");
    Rc::new(SqlStore::open(Box::new(host), prefix).await.expect("open")) as Rc<dyn Store>
}

/// The garbage a damage test writes, and where: (sql with `{P}`, id, seq or undefined).
fn damage_sql(prefix: &str, d: Damage, numbered: bool) -> (String, JsValue, JsValue) {
    let (a, b) = if numbered { ("$1", "$2") } else { ("?", "?") };
    match d {
        Damage::Session(id) => (
            format!("UPDATE {prefix}sessions SET data = '{{garbage' WHERE id = {a}"),
            JsValue::from_str(&id),
            JsValue::UNDEFINED,
        ),
        Damage::Message(id, seq) => (
            format!(
                "UPDATE {prefix}messages SET data = '{{garbage' WHERE session_id = {a} AND seq = {b}"
            ),
            JsValue::from_str(&id),
            JsValue::from_f64(seq as f64),
        ),
    }
}

/// SQLite on a temp file.
async fn sqlite() -> Backend {
    let path = temp_path("conformance").await.as_string().unwrap();
    let prefix = unique_prefix("s");
    let (p1, p2, path2) = (prefix.clone(), prefix, path.clone());
    Backend {
        name: sqlite_driver(),
        open: Box::new(move || {
            let (path, prefix) = (path.clone(), p1.clone());
            async move { open_store(open_sqlite(&path).await, false, &prefix).await }.boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let (path, prefix) = (path2.clone(), p2.clone());
            async move {
                let db = open_sqlite(&path).await;
                let (sql, a, b) = damage_sql(&prefix, d, false);
                sqlite_raw(&db, &sql, &a, &b);
            }
            .boxed_local()
        })),
    }
}

async fn postgres() -> Backend {
    let prefix = unique_prefix("p");
    let p2 = prefix.clone();
    Backend {
        name: "PostgreSQL".into(),
        open: Box::new(move || {
            let prefix = prefix.clone();
            async move { open_store(pg_pool().await, true, &prefix).await }.boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let prefix = p2.clone();
            async move {
                let (sql, a, b) = damage_sql(&prefix, d, true);
                pg_raw(&pg_pool().await, &sql, &a, &b).await;
            }
            .boxed_local()
        })),
    }
}

store_contract!(sqlite_store, sqlite, wasm);
store_contract!(postgres_store, postgres, wasm);
