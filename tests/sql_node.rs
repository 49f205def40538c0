//! The storage conformance suite over real SQL databases, from Node (`wasm-pack test --node
//! --test sql_node`): SQLite through better-sqlite3 (or node:sqlite with
//! `AGENT_SESSIONS_SQLITE=node:sqlite`, on Node >= 22.5), the Durable Object shape
//! (`{ sql.exec, transactionSync }`) over the same SQLite, D1 in workerd (miniflare's D1 binding,
//! reached from Node), and PostgreSQL (a server started by `tests/sql/pg-server.mjs` for this
//! process and stopped when it exits). Every "new instance" opens a new database handle (a new
//! file handle, a new pool): a real restart.
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
  const dir = fs.mkdtempSync(os.tmpdir() + "/agent-sessions-sql-");
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
// A Durable Object's ctx.storage, as far as the SQL store uses it, over a Node SQLite database.
export function durableShape(db) {
  const exec = (q, ...bindings) => {
    const st = db.prepare(q);
    const rows = st.reader === false ? (st.run(...bindings), []) : st.all(...bindings);
    return { toArray: () => rows };
  };
  return {
    sql: { exec, databaseSize: 0 },
    transactionSync(fn) {
      db.exec("BEGIN");
      try { const r = fn(); db.exec("COMMIT"); return r; } catch (e) { db.exec("ROLLBACK"); throw e; }
    },
  };
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
let mf = null;
export async function d1() {
  if (!mf) {
    const { Miniflare } = load("miniflare");
    mf = new Miniflare({
      modules: true,
      script: "export default { fetch() { return new Response('') } }",
      d1Databases: ["DB"],
      compatibilityDate: "2025-01-01",
    });
    await mf.ready;
  }
  return mf.getD1Database("DB");
}
export async function d1Raw(db, q, a, b) {
  const st = db.prepare(q);
  await (b === undefined ? st.bind(a) : st.bind(a, b)).run();
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
    #[wasm_bindgen(js_name = durableShape)]
    fn durable_shape(db: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = sqliteRaw)]
    fn sqlite_raw(db: &JsValue, sql: &str, a: &JsValue, b: &JsValue);
    #[wasm_bindgen(js_name = pgPool)]
    async fn pg_pool() -> JsValue;
    #[wasm_bindgen(js_name = pgRaw)]
    async fn pg_raw(pool: &JsValue, sql: &str, a: &JsValue, b: &JsValue);
    async fn d1() -> JsValue;
    #[wasm_bindgen(js_name = d1Raw)]
    async fn d1_raw(db: &JsValue, sql: &str, a: &JsValue, b: &JsValue);
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

/// SQLite on a temp file; `durable` wraps each handle in the Durable Object shape.
async fn sqlite_file(durable: bool) -> Backend {
    let path = temp_path("conformance").await.as_string().unwrap();
    let prefix = unique_prefix("s");
    let (p1, p2, path2) = (prefix.clone(), prefix, path.clone());
    Backend {
        name: format!(
            "{}{}",
            sqlite_driver(),
            if durable {
                " in the Durable Object shape"
            } else {
                ""
            }
        ),
        open: Box::new(move || {
            let (path, prefix) = (path.clone(), p1.clone());
            async move {
                let db = open_sqlite(&path).await;
                let host = if durable { durable_shape(&db) } else { db };
                open_store(host, false, &prefix).await
            }
            .boxed_local()
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

async fn sqlite() -> Backend {
    sqlite_file(false).await
}

async fn durable_over_sqlite() -> Backend {
    sqlite_file(true).await
}

async fn d1_in_workerd() -> Backend {
    let prefix = unique_prefix("d");
    let p2 = prefix.clone();
    Backend {
        name: "D1 (workerd, through miniflare)".into(),
        open: Box::new(move || {
            let prefix = prefix.clone();
            async move { open_store(d1().await, false, &prefix).await }.boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let prefix = p2.clone();
            async move {
                let (sql, a, b) = damage_sql(&prefix, d, false);
                d1_raw(&d1().await, &sql, &a, &b).await;
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
store_contract!(durable_shape_store, durable_over_sqlite, wasm);
store_contract!(d1_store, d1_in_workerd, wasm);
store_contract!(postgres_store, postgres, wasm);
