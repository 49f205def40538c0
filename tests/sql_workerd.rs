//! The storage conformance suite inside workerd, on a real SQLite-backed Durable Object's
//! `ctx.storage` (and its `ctx.storage.sql` alone) and a real D1 binding. Not run by `wasm-pack
//! test` (there is no workerd runner): `tests/sql/workerd-contract.mjs` builds this test binary,
//! binds it with `wasm-bindgen --target web` and runs its tests inside a Durable Object through
//! miniflare, with wasm-bindgen-test's own test context.
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
let counter = 0;
export function uniquePrefix(tag) { counter += 1; return `t_${tag}${counter}_`; }
// Set by the Durable Object that runs the tests: its ctx.storage and the D1 binding.
export function host(kind) {
  const h = globalThis.__agentSessionsTestHost;
  if (kind === "storage") return h.storage;
  if (kind === "sql") return h.storage.sql;
  return h.d1;
}
export async function raw(kind, q, a, b) {
  const args = b === undefined ? [a] : [a, b];
  if (kind === "d1") await host("d1").prepare(q).bind(...args).run();
  else host("sql").exec(q, ...args);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = uniquePrefix)]
    fn unique_prefix(tag: &str) -> String;
    fn host(kind: &str) -> JsValue;
    async fn raw(kind: &str, sql: &str, a: &JsValue, b: &JsValue);
}

fn backend(kind: &'static str, name: &str) -> Backend {
    let prefix = unique_prefix(&kind[..1]);
    let p2 = prefix.clone();
    Backend {
        name: name.into(),
        open: Box::new(move || {
            let prefix = prefix.clone();
            async move {
                let host = HostSql::sqlite(host(kind)).expect("a known shape");
                Rc::new(SqlStore::open(Box::new(host), &prefix).await.expect("open"))
                    as Rc<dyn Store>
            }
            .boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let prefix = p2.clone();
            async move {
                let (sql, a, b) = match d {
                    Damage::Session(id) => (
                        format!("UPDATE {prefix}sessions SET data = '{{garbage' WHERE id = ?"),
                        JsValue::from_str(&id),
                        JsValue::UNDEFINED,
                    ),
                    Damage::Message(id, seq) => (
                        format!("UPDATE {prefix}messages SET data = '{{garbage' WHERE session_id = ? AND seq = ?"),
                        JsValue::from_str(&id),
                        JsValue::from_f64(seq as f64),
                    ),
                };
                raw(if kind == "d1" { "d1" } else { "sql" }, &sql, &a, &b).await;
            }
            .boxed_local()
        })),
    }
}

async fn durable_storage() -> Backend {
    backend("storage", "Durable Object ctx.storage (workerd)")
}

async fn durable_sql() -> Backend {
    backend("sql", "Durable Object ctx.storage.sql (workerd)")
}

async fn d1_binding() -> Backend {
    backend("d1", "D1 binding (workerd)")
}

store_contract!(durable_storage_store, durable_storage, wasm);
store_contract!(durable_sql_store, durable_sql, wasm);
store_contract!(d1_store, d1_binding, wasm);
