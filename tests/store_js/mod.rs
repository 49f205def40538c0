//! The storage backends in real JavaScript runtimes: the conformance suite's backends over
//! IndexedDB, localStorage and host key-value objects, and the fault tests (quota, damaged
//! records, another tab's upgrade, unavailable storage), shared by `tests/web.rs` (Chromium,
//! Firefox) and `tests/node.rs`.

#![allow(dead_code)]

use std::rc::Rc;

use agent_sessions::bindings::agent::Agent;
use agent_sessions::bindings::store::SessionStore;
use agent_sessions::core::error::ErrorCode;
use agent_sessions::core::store::kv::keys;
use agent_sessions::core::store::{KvStore, MemoryStore, MessageQuery, Store};
use agent_sessions::platform::host_kv::HostKv;
use agent_sessions::platform::indexed_db::IndexedDbStore;
use agent_sessions::platform::local_storage::LocalStorageKv;
use futures_util::FutureExt;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::common::{assert_error, contents, fails, get, ids, json, num_of, ok, str_of};
use crate::store_contract::{self, Backend, Damage};

#[wasm_bindgen(inline_js = r#"
export function makeKv(shape) {
  const map = new Map();
  const kv = {
    map,
    async get(k) {
      if (Array.isArray(k)) return new Map(k.filter((x) => map.has(x)).map((x) => [x, map.get(x)]));
      return map.has(k) ? map.get(k) : (shape === "pages" ? null : undefined);
    },
    async put(k, v) {
      if (typeof k === "object") { for (const [a, b] of Object.entries(k)) map.set(a, b); return; }
      map.set(k, v);
    },
    async delete(k) {
      if (Array.isArray(k)) { let n = 0; for (const x of k) n += map.delete(x) ? 1 : 0; return n; }
      return map.delete(k);
    },
    async list({ prefix, cursor }) {
      const keys = [...map.keys()].filter((k) => k.startsWith(prefix)).sort();
      if (shape === "array") return keys;
      if (shape !== "pages") return new Map(keys.map((k) => [k, map.get(k)]));
      const start = cursor ? Number(cursor) : 0;
      const done = start + 3 >= keys.length;
      return { keys: keys.slice(start, start + 3).map((name) => ({ name })), list_complete: done,
               cursor: done ? undefined : String(start + 3) };
    },
  };
  // The Durable Object storage shape: batched get/put/delete, detected by these two methods.
  if (shape === "durable") { kv.transaction = async (f) => f(kv); kv.deleteAll = async () => map.clear(); }
  return kv;
}
export function setRaw(kv, key, value) { kv.map.set(key, value); }
function req(r) { return new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); }); }
export async function idbPut(name, store, value) {
  const db = await req(indexedDB.open(name));
  try {
    await new Promise((ok, fail) => {
      const tx = db.transaction(store, "readwrite");
      tx.objectStore(store).put(value);
      tx.oncomplete = ok; tx.onabort = () => fail(tx.error);
    });
  } finally { db.close(); }
}
// Another tab: opens `name` at `version` and resolves once open (closing it), or rejects if blocked.
export function idbOpenOther(name, version, keepOpen) {
  return new Promise((ok, fail) => {
    const r = indexedDB.open(name, version);
    r.onupgradeneeded = () => {};
    r.onblocked = () => fail(new Error("blocked"));
    r.onsuccess = () => { if (keepOpen) ok(r.result); else { r.result.close(); ok(null); } };
    r.onerror = () => fail(r.error);
  });
}
export function closeDb(db) { db.close(); }
// Replaces globalThis[name] (a getter that throws, or undefined); returns the restore function.
export function shadowGlobal(name, throwing) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, name);
  const desc = throwing
    ? { get() { throw new DOMException("The operation is insecure.", "SecurityError"); }, configurable: true }
    : { value: undefined, configurable: true, writable: true };
  Object.defineProperty(globalThis, name, desc);
  return () => { if (saved) Object.defineProperty(globalThis, name, saved); else delete globalThis[name]; };
}
// Fills localStorage under `prefix` until it refuses even one character; returns the keys written.
export function fillLocalStorage(prefix) {
  let size = 1 << 20, n = 0;
  const chunk = (k) => "x".repeat(k);
  while (size >= 1) {
    try { localStorage.setItem(prefix + n, chunk(size)); n++; }
    catch (e) { if (e.name !== "QuotaExceededError" && e.code !== 22 && e.code !== 1014) throw e; size = Math.floor(size / 2); }
  }
  return n;
}
export function freeLocalStorage(prefix) {
  for (const k of Object.keys(localStorage)) if (k.startsWith(prefix)) localStorage.removeItem(k);
}
export function unique(tag) { return `${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`; }
export function setLocal(k, v) { localStorage.setItem(k, v); }
export function sleep(ms) { return new Promise((ok) => setTimeout(ok, ms)); }
export function hasIndexedDb() { return typeof indexedDB !== "undefined"; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = makeKv)]
    pub fn make_kv(shape: &str) -> JsValue;
    #[wasm_bindgen(js_name = setRaw)]
    fn set_raw(kv: &JsValue, key: &str, value: &str);
    #[wasm_bindgen(js_name = idbPut, catch)]
    async fn idb_put(name: &str, store: &str, value: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = idbOpenOther, catch)]
    async fn idb_open_other(name: &str, version: u32, keep_open: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = closeDb)]
    fn close_db(db: &JsValue);
    #[wasm_bindgen(js_name = shadowGlobal)]
    fn shadow_global(name: &str, throwing: bool) -> js_sys::Function;
    #[wasm_bindgen(js_name = fillLocalStorage, catch)]
    fn fill_local_storage(prefix: &str) -> Result<u32, JsValue>;
    #[wasm_bindgen(js_name = freeLocalStorage)]
    fn free_local_storage(prefix: &str);
    pub fn unique(tag: &str) -> String;
    async fn sleep(ms: u32);
    #[wasm_bindgen(js_name = setLocal)]
    fn set_local(key: &str, value: &str);
    #[wasm_bindgen(js_name = hasIndexedDb)]
    pub fn has_indexed_db() -> bool;
}

// ---- conformance backends -------------------------------------------------------------------

pub async fn memory() -> Backend {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    Backend {
        name: "memory".into(),
        open: Box::new(move || {
            let s = store.clone();
            async move { s }.boxed_local()
        }),
        damage: None,
    }
}

fn kv_backend(shape: &'static str) -> Backend {
    let kv = make_kv(shape);
    let raw = kv.clone();
    Backend {
        name: format!("host kv ({shape})"),
        open: Box::new(move || {
            let kv = HostKv::new(kv.clone()).expect("a host kv object");
            async move { Rc::new(KvStore::new(kv, "as/")) as Rc<dyn Store> }.boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            set_raw(&raw, &damaged_key("as/", d), "{garbage");
            async {}.boxed_local()
        })),
    }
}

fn damaged_key(prefix: &str, d: Damage) -> String {
    match d {
        Damage::Session(id) => keys::session(prefix, &id),
        Damage::Message(id, seq) => keys::message(prefix, &id, seq),
    }
}

/// A Map-backed object whose `list` resolves to a Map (as Durable Object storage does).
pub async fn kv_map() -> Backend {
    kv_backend("map")
}

/// Workers KV's shape: `get` → null, `list` paginated with cursors (3 keys a page here).
pub async fn kv_pages() -> Backend {
    kv_backend("pages")
}

/// `list` resolving to an array of keys.
pub async fn kv_array() -> Backend {
    kv_backend("array")
}

/// Durable Object storage's batched calls (`get(keys)`, `put(entries)`, `delete(keys)`).
pub async fn kv_durable() -> Backend {
    kv_backend("durable")
}

pub async fn local_storage() -> Backend {
    let prefix = format!("{}/", unique("ls"));
    let raw_prefix = prefix.clone();
    Backend {
        name: "localStorage".into(),
        open: Box::new(move || {
            let kv = LocalStorageKv::open().expect("localStorage");
            let prefix = prefix.clone();
            async move { Rc::new(KvStore::new(kv, prefix)) as Rc<dyn Store> }.boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let key = damaged_key(&raw_prefix, d);
            set_local(&key, "{garbage");
            async {}.boxed_local()
        })),
    }
}

pub async fn indexed_db() -> Backend {
    let name = unique("idb");
    let raw_name = name.clone();
    Backend {
        name: "IndexedDB".into(),
        open: Box::new(move || {
            let name = name.clone();
            async move { Rc::new(IndexedDbStore::open(&name).await.expect("opens")) as Rc<dyn Store> }
                .boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let name = raw_name.clone();
            async move {
                // Garbage that still carries the record's key, as a buggy writer would leave.
                let (store, value) = match d {
                    Damage::Session(id) => (
                        "sessions",
                        json(&format!(r#"{{"id":{id:?},"createdAt":"garbage"}}"#)),
                    ),
                    Damage::Message(id, seq) => (
                        "messages",
                        json(&format!(r#"{{"sessionId":{id:?},"seq":{seq},"role":42}}"#)),
                    ),
                };
                idb_put(&name, store, value).await.expect("raw put");
            }
            .boxed_local()
        })),
    }
}

// ---- helpers over the public API -----------------------------------------------------------

/// `{ type: "kv", kv, prefix }` with a JS object (configs holding host objects are not JSON).
pub fn kv_config(kv: &JsValue, prefix: &str) -> JsValue {
    let storage = Object::new();
    Reflect::set(&storage, &"type".into(), &"kv".into()).unwrap();
    Reflect::set(&storage, &"kv".into(), kv).unwrap();
    Reflect::set(&storage, &"prefix".into(), &prefix.into()).unwrap();
    let config = Object::new();
    Reflect::set(&config, &"storage".into(), &storage).unwrap();
    config.into()
}

pub async fn open_with(config: &JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(SessionStore::open(config.clone())).await
}

fn with_llm(config: &JsValue) -> JsValue {
    let c = Object::assign(&Object::new(), config.unchecked_ref());
    Reflect::set(
        &c,
        &"llm".into(),
        &json(r#"{"provider":"mock","model":"mock-1"}"#),
    )
    .unwrap();
    Reflect::set(&c, &"name".into(), &"assistant".into()).unwrap();
    c.into()
}

/// A store and an Agent over `config`, then new ones over the same storage: every session comes
/// back with its title, metadata, history, runs and usage.
pub async fn restart_restores_everything(config: JsValue) {
    let first = open_with(&config).await.expect("opens");
    let s = ok(
        &first,
        "create",
        &[
            "user-1".into(),
            json(r#"{"title":"Sarah","metadata":{"tier":"premium"}}"#),
        ],
    )
    .await;
    for text in ["one", "two", "three"] {
        ok(
            &s,
            "addMessage",
            &[json(&format!(r#"{{"role":"user","content":"{text}"}}"#))],
        )
        .await;
    }
    let run = ok(&s, "createRun", &[]).await;
    ok(&run, "start", &[]).await;
    ok(&run, "complete", &[json(r#"{"tokensUsed":10}"#)]).await;
    ok(
        &s,
        "update",
        &[json(r#"{"title":"Sarah C.","metadata":{"tier":"gold"}}"#)],
    )
    .await;
    let two = ok(&first, "create", &["user-2".into()]).await;
    for text in ["gone 1", "gone 2"] {
        ok(
            &two,
            "addMessage",
            &[json(&format!(r#"{{"role":"user","content":"{text}"}}"#))],
        )
        .await;
    }
    ok(&two, "reset", &[]).await;
    ok(&first, "getOrCreate", &["user-3".into()]).await;
    let entry = json(r#"{"message":{"role":"user","content":"agkit"},"state":{"k":"v"}}"#);
    ok(&first, "add", &[entry, json(r#"{"sessionId":"user-3"}"#)]).await;
    let agent: JsValue = Agent::new(with_llm(&config)).expect("agent").into();
    let chat = ok(
        &agent,
        "createSession",
        &["chat-1".into(), json(r#"{"metadata":{"a":1}}"#)],
    )
    .await;
    ok(
        &agent,
        "generate",
        &["My name is Sarah.".into(), "chat-1".into()],
    )
    .await;
    drop(chat);

    let second = open_with(&config).await.expect("reopens");
    let mut listed = ids(&ok(&second, "listSessions", &[]).await);
    listed.sort();
    assert_eq!(listed, ["chat-1", "user-1", "user-2", "user-3"]);
    let s = ok(&second, "get", &["user-1".into()]).await;
    assert_eq!(str_of(&s, "title").as_deref(), Some("Sarah C."));
    assert_eq!(
        str_of(&get(&s, "metadata"), "tier").as_deref(),
        Some("gold")
    );
    assert_eq!(num_of(&s, "messageCount"), Some(3.0));
    assert_eq!(num_of(&get(&s, "usage"), "totalTokens"), Some(10.0));
    assert_eq!(
        contents(&ok(&s, "getHistory", &[]).await),
        ["one", "two", "three"]
    );
    assert_eq!(
        contents(&ok(&s, "getHistory", &[json(r#"{"limit":2}"#)]).await),
        ["two", "three"]
    );
    let runs = Array::from(&ok(&s, "getRuns", &[]).await);
    assert_eq!(runs.length(), 1);
    assert_eq!(str_of(&runs.get(0), "status").as_deref(), Some("completed"));
    let page = ok(&second, "querySessions", &[json(r#"{"limit":10}"#)]).await;
    assert_eq!(Array::from(&get(&page, "sessions")).length(), 4);
    // A reset stays a reset, and seqs go on after it.
    let two = ok(&second, "get", &["user-2".into()]).await;
    assert_eq!(num_of(&two, "messageCount"), Some(0.0));
    assert_eq!(Array::from(&ok(&two, "getHistory", &[]).await).length(), 0);
    let m = ok(
        &two,
        "addMessage",
        &[json(r#"{"role":"user","content":"fresh"}"#)],
    )
    .await;
    assert_eq!(num_of(&m, "seq"), Some(2.0));
    let listed = Array::from(&ok(&second, "list", &[json(r#"{"sessionId":"user-3"}"#)]).await);
    assert_eq!(listed.length(), 1);
    assert_eq!(
        str_of(&get(&listed.get(0), "state"), "k").as_deref(),
        Some("v")
    );
    assert_eq!(Array::from(&ok(&second, "sweep", &[]).await).length(), 0);
    assert_eq!(ok(&two, "delete", &[]).await, JsValue::TRUE);
    let third = open_with(&config).await.expect("reopens");
    assert!(ok(&third, "get", &["user-2".into()]).await.is_null());

    let agent: JsValue = Agent::new(with_llm(&config)).expect("agent").into();
    let history = ok(&agent, "getSessionHistory", &["chat-1".into()]).await;
    assert_eq!(contents(&history)[0], "My name is Sarah.");
    assert_eq!(Array::from(&history).length(), 2, "the reply was stored");
    let chat = ok(&agent, "getSession", &["chat-1".into()]).await;
    assert_eq!(num_of(&get(&chat, "metadata"), "a"), Some(1.0));
    assert_eq!(Array::from(&ok(&chat, "getRuns", &[]).await).length(), 1);
    let reply = ok(
        &agent,
        "generate",
        &["What is my name?".into(), "chat-1".into()],
    )
    .await;
    assert_eq!(
        str_of(&reply, "content").as_deref(),
        Some("Your name is Sarah.")
    );
}

pub async fn kv_object_restart_restores_everything() {
    for shape in ["map", "pages", "durable"] {
        restart_restores_everything(kv_config(&make_kv(shape), "app/")).await;
    }
}

pub async fn bad_storage_configs_are_refused() {
    for (cfg, code) in [
        (
            r#"{"storage":{"type":"indexeddb","nmae":"x"}}"#,
            "INVALID_CONFIG",
        ),
        (
            r#"{"storage":{"type":"indexeddb","name":""}}"#,
            "INVALID_CONFIG",
        ),
        (
            r#"{"storage":{"type":"indexeddb","fallback":"disk"}}"#,
            "INVALID_CONFIG",
        ),
        (
            r#"{"storage":{"type":"localstorage","prefix":7}}"#,
            "INVALID_CONFIG",
        ),
        (
            r#"{"storage":{"type":"memory","name":"x"}}"#,
            "INVALID_CONFIG",
        ),
        (r#"{"storage":{"type":"kv"}}"#, "INVALID_CONFIG"),
        (
            r#"{"storage":{"type":"kv","kv":{"get":1}}}"#,
            "INVALID_CONFIG",
        ),
        (r#"{"storage":"memory"}"#, "INVALID_CONFIG"),
    ] {
        let err = open_with(&json(cfg)).await.expect_err(cfg);
        assert_error(&err, code);
        match Agent::new(json(cfg)) {
            Ok(_) => panic!("{cfg} should be refused by new Agent"),
            Err(e) => assert_error(&e, code),
        }
    }
}

/// Where IndexedDB or localStorage do not exist (Node), asking for them is STORAGE_UNAVAILABLE
/// unless a fallback is configured; the default is memory.
pub async fn missing_browser_storage_is_unavailable_or_falls_back() {
    for t in ["indexeddb", "localstorage"] {
        let err = open_with(&json(&format!(r#"{{"storage":{{"type":"{t}"}}}}"#)))
            .await
            .expect_err(t);
        assert_error(&err, "STORAGE_UNAVAILABLE");
        let store = open_with(&json(&format!(
            r#"{{"storage":{{"type":"{t}","fallback":"memory"}}}}"#
        )))
        .await
        .expect("falls back to memory");
        ok(&store, "create", &["s".into()]).await;
        assert_eq!(ids(&ok(&store, "listSessions", &[]).await), ["s"]);
    }
    let agent: JsValue = Agent::new(json("{}")).expect("agent").into();
    ok(&agent, "start", &[]).await;
}

// ---- browser-only faults ---------------------------------------------------------------------

/// Shadows a global for the duration of `f`, restoring it even when `f` fails.
async fn without_global<F, Fut>(name: &str, throwing: bool, f: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let restore = shadow_global(name, throwing);
    let outcome = f().await;
    restore.call0(&JsValue::NULL).unwrap();
    outcome.unwrap();
}

fn expect_code(result: Result<JsValue, JsValue>, code: &str) -> Result<JsValue, String> {
    match result {
        Ok(_) => Err(format!("expected {code}, it succeeded")),
        Err(e) if str_of(&e, "code").as_deref() == Some(code) => Ok(e),
        Err(e) => Err(format!(
            "expected {code}, got {:?}: {:?}",
            str_of(&e, "code"),
            str_of(&e, "message")
        )),
    }
}

pub async fn blocked_or_missing_storage_is_unavailable_or_falls_back() {
    for (global, kind) in [("indexedDB", "indexeddb"), ("localStorage", "localstorage")] {
        for throwing in [false, true] {
            without_global(global, throwing, || async move {
                let plain = json(&format!(r#"{{"storage":{{"type":"{kind}"}}}}"#));
                let err = expect_code(open_with(&plain).await, "STORAGE_UNAVAILABLE")?;
                let msg = str_of(&err, "message").unwrap_or_default();
                if !msg.contains(global) && !msg.contains("IndexedDB") {
                    return Err(format!("unclear message: {msg}"));
                }
                let fallback = json(&format!(
                    r#"{{"storage":{{"type":"{kind}","fallback":"memory"}}}}"#
                ));
                let store = open_with(&fallback)
                    .await
                    .map_err(|_| "no fallback".to_owned())?;
                call_ok(&store, "create", &["s".into()]).await?;
                // Without storage, the default is memory.
                let default = open_with(&json("{}")).await.map_err(|_| "default failed")?;
                call_ok(&default, "create", &[unique("d").into()]).await?;
                Ok(())
            })
            .await;
        }
    }
}

async fn call_ok(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    crate::common::call(obj, method, args)
        .await
        .map_err(|e| format!("{method}: {:?}", str_of(&e, "message")))
}

/// localStorage full: STORAGE_QUOTA, earlier history intact, and it works again once space is
/// freed. Runs in Chromium and Firefox.
pub async fn local_storage_quota_is_reported_and_recovers() {
    let prefix = format!("{}/", unique("quota"));
    let filler = format!("{}-filler/", unique("quota"));
    let config = json(&format!(
        r#"{{"storage":{{"type":"localstorage","prefix":"{prefix}"}}}}"#
    ));
    let store = open_with(&config).await.expect("opens");
    let s = ok(&store, "create", &["q".into()]).await;
    ok(
        &s,
        "addMessage",
        &[json(r#"{"role":"user","content":"before"}"#)],
    )
    .await;
    let filled = fill_local_storage(&filler);
    // Everything below must not panic before the filler is removed.
    let attempt = crate::common::call(
        &s,
        "addMessage",
        &[json(r#"{"role":"user","content":"does not fit"}"#)],
    )
    .await;
    let history_when_full = crate::common::call(&s, "getHistory", &[]).await;
    free_local_storage(&filler);
    assert!(filled.expect("filling works") > 0);
    let err = attempt.expect_err("a write into a full localStorage fails");
    assert_error(&err, "STORAGE_QUOTA");
    assert_eq!(
        contents(&history_when_full.expect("reads work when full")),
        ["before"]
    );
    ok(
        &s,
        "addMessage",
        &[json(r#"{"role":"user","content":"after"}"#)],
    )
    .await;
    let reopened = open_with(&config).await.expect("reopens");
    let s2 = ok(&reopened, "get", &["q".into()]).await;
    assert_eq!(
        contents(&ok(&s2, "getHistory", &[]).await),
        ["before", "after"]
    );
    free_local_storage(&prefix);
}

/// Garbage in a session's record, through the public API: STORAGE_CORRUPT naming the session,
/// the others unaffected, and the damaged one deletable.
async fn damaged_record_through_the_api(
    config: JsValue,
    damage: impl FnOnce() -> futures_util::future::LocalBoxFuture<'static, ()>,
) {
    let store = open_with(&config).await.expect("opens");
    for id in ["good", "bad"] {
        let s = ok(&store, "create", &[id.into()]).await;
        ok(
            &s,
            "addMessage",
            &[json(r#"{"role":"user","content":"hi"}"#)],
        )
        .await;
    }
    damage().await;
    // A new instance: nothing cached.
    let store = open_with(&config).await.expect("reopens");
    let err = fails(&store, "get", &["bad".into()], "STORAGE_CORRUPT").await;
    assert_eq!(str_of(&err, "sessionId").as_deref(), Some("bad"));
    assert_eq!(ids(&ok(&store, "listSessions", &[]).await), ["good"]);
    let good = ok(&store, "get", &["good".into()]).await;
    assert_eq!(contents(&ok(&good, "getHistory", &[]).await), ["hi"]);
    assert_eq!(ok(&store, "delete", &["bad".into()]).await, JsValue::TRUE);
    assert!(ok(&store, "get", &["bad".into()]).await.is_null());
    ok(&store, "create", &["bad".into()]).await;
}

pub async fn damaged_records_are_reported_per_session() {
    let name = unique("idb-damage");
    let n = name.clone();
    damaged_record_through_the_api(
        json(&format!(
            r#"{{"storage":{{"type":"indexeddb","name":"{name}"}}}}"#
        )),
        move || {
            async move {
                idb_put(&n, "sessions", json(r#"{"id":"bad","createdAt":{"x":1}}"#))
                    .await
                    .unwrap();
            }
            .boxed_local()
        },
    )
    .await;
    let prefix = format!("{}/", unique("ls-damage"));
    let p = prefix.clone();
    damaged_record_through_the_api(
        json(&format!(
            r#"{{"storage":{{"type":"localstorage","prefix":"{prefix}"}}}}"#
        )),
        move || {
            set_local(&keys::session(&p, "bad"), "not json at all");
            async {}.boxed_local()
        },
    )
    .await;
    free_local_storage(&prefix);
}

/// Another tab opens a newer schema: this connection closes at once (the other tab is not
/// blocked) and the next call here fails clearly; reopening reports the newer schema.
pub async fn a_newer_schema_in_another_tab_closes_this_connection() {
    let name = unique("idb-vc");
    let config = json(&format!(
        r#"{{"storage":{{"type":"indexeddb","name":"{name}"}}}}"#
    ));
    let store = open_with(&config).await.expect("opens");
    let s = ok(&store, "create", &["kept".into()]).await;
    ok(
        &s,
        "addMessage",
        &[json(r#"{"role":"user","content":"hi"}"#)],
    )
    .await;
    let direct = IndexedDbStore::open(&name)
        .await
        .expect("a second connection");
    idb_open_other(
        &name,
        agent_sessions::platform::indexed_db::SCHEMA_VERSION + 1,
        false,
    )
    .await
    .expect("the other tab's upgrade is not blocked");
    let err = direct.get_session("kept").await.expect_err("closed");
    assert_eq!(err.code, ErrorCode::StorageUnavailable);
    assert!(err.message.contains("newer version"), "{}", err.message);
    // Through the API: the session is cached, but storage is gone, so reads that need it fail.
    let err = fails(&s, "getHistory", &[], "STORAGE_UNAVAILABLE").await;
    assert!(str_of(&err, "message").unwrap().contains("reload"));
    let err = open_with(&config)
        .await
        .expect_err("schema is newer than this build");
    assert_error(&err, "STORAGE_UNAVAILABLE");
    assert!(str_of(&err, "message")
        .unwrap()
        .contains("newer version of agent-sessions"));
}

/// An older tab that keeps its connection open blocks our upgrade: STORAGE_UNAVAILABLE, and once
/// it closes, opening works and the upgrade happens.
pub async fn an_upgrade_blocked_by_another_tab_is_unavailable() {
    let name = unique("idb-blocked");
    let other = idb_open_other(&name, 1, true).await.expect("old tab opens");
    let err = IndexedDbStore::open(&name).await.err().expect("blocked");
    assert_eq!(err.code, ErrorCode::StorageUnavailable);
    assert!(err.message.contains("another tab"), "{}", err.message);
    close_db(&other);
    // The pending open finishes (and closes) in the background; a new open then succeeds. The
    // old tab created version 1 with no stores: the upgrade must still create all of them.
    let mut opened = None;
    for _ in 0..500 {
        if let Ok(store) = IndexedDbStore::open(&name).await {
            opened = Some(store);
            break;
        }
        sleep(20).await;
    }
    let store = opened.expect("opens once the other tab closed");
    let mut s = store_contract::session("s");
    store.put_session(&s).await.unwrap();
    store_contract::append(&store, &mut s, "x").await;
    store.put_run(&store_contract::run("s", "r")).await.unwrap();
}

/// A database written at schema version 1 is upgraded in place to the current version: its
/// sessions and messages stay, and the stores added later work.
pub async fn an_old_schema_is_upgraded_in_place() {
    let name = unique("idb-upgrade");
    {
        let v1 = IndexedDbStore::open_at_version(&name, 1).await.expect("v1");
        let mut s = store_contract::session("old");
        v1.put_session(&s).await.unwrap();
        for i in 0..3 {
            store_contract::append(&v1, &mut s, &format!("m{i}")).await;
        }
        v1.put_meta("k", "v").await.unwrap();
        let err = v1
            .put_run(&store_contract::run("old", "r"))
            .await
            .expect_err("no runs in v1");
        assert_eq!(err.code, ErrorCode::Storage);
    }
    let current = IndexedDbStore::open(&name).await.expect("upgrades");
    let h = current
        .get_messages("old", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(
        h.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m0", "m1", "m2"]
    );
    assert_eq!(current.get_meta("k").await.unwrap().as_deref(), Some("v"));
    current
        .put_run(&store_contract::run("old", "r"))
        .await
        .unwrap();
    assert_eq!(current.get_runs("old").await.unwrap().len(), 1);
    assert_eq!(current.list_sessions().await.unwrap().len(), 1);
}

pub async fn browser_restart_restores_everything() {
    let name = unique("idb-restart");
    restart_restores_everything(json(&format!(
        r#"{{"storage":{{"type":"indexeddb","name":"{name}"}}}}"#
    )))
    .await;
    let prefix = format!("{}/", unique("ls-restart"));
    restart_restores_everything(json(&format!(
        r#"{{"storage":{{"type":"localstorage","prefix":"{prefix}"}}}}"#
    )))
    .await;
    free_local_storage(&prefix);
    kv_object_restart_restores_everything().await;
}

/// The default storage in a browser is IndexedDB: a store opened with no storage option sees
/// what an earlier default store wrote.
pub async fn the_browser_default_is_indexed_db() {
    let id = unique("default");
    let first = open_with(&json("{}")).await.expect("opens");
    ok(&first, "create", &[id.clone().into()]).await;
    let second = open_with(&json("{}")).await.expect("opens");
    assert!(!ok(&second, "get", &[id.clone().into()]).await.is_null());
    ok(&second, "delete", &[id.into()]).await;
}
