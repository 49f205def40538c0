//! `SessionStore`: sessions over a storage backend, PraisonAI / AG-Kit shaped.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::Promise;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::config::{self, Fallback, StorageConfig};
use super::convert::{
    field, from_js, opt_string, promise, readable_metadata, string_arg, to_js, JsResult,
};
use super::errors::illegal_constructor;
use super::session::Session;
use crate::core::bundle::Bundle;
use crate::core::error::{Error, ErrorCode};
use crate::core::manager::{
    CreateOptions, ImportOptions, QueryOptions, SessionManager, SessionOrder,
};
use crate::core::model::NewMessage;
use crate::core::record_read::{Fields, FromValue, ReadResult};
use crate::core::store::{KvStore, MemoryStore, Store};
use crate::platform::indexed_db::IndexedDbStore;
use crate::platform::local_storage::LocalStorageKv;
use crate::platform::{clock::JsClock, crypto, peers, random::CryptoRandom};

thread_local! {
    /// Live stores by key, so an `Agent` config can name a store object it was given.
    static REGISTRY: RefCell<Vec<(u32, Weak<SessionManager>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_KEY: Cell<u32> = const { Cell::new(1) };
}

/// The key a `SessionStore` object carries, hidden from TypeScript.
#[cfg(feature = "llm")]
const KEY_PROPERTY: &str = "__agentSessionsStoreKey";

#[wasm_bindgen(skip_typescript)]
pub struct SessionStore {
    pub(crate) manager: Rc<SessionManager>,
    key: u32,
}

impl Drop for SessionStore {
    fn drop(&mut self) {
        REGISTRY.with(|r| r.borrow_mut().retain(|(k, _)| *k != self.key));
    }
}

impl SessionStore {
    pub(crate) fn from_manager(manager: Rc<SessionManager>) -> SessionStore {
        let key = NEXT_KEY.with(|k| {
            let key = k.get();
            k.set(key.wrapping_add(1).max(1));
            key
        });
        REGISTRY.with(|r| r.borrow_mut().push((key, Rc::downgrade(&manager))));
        SessionStore { manager, key }
    }

    /// The store behind a `SessionStore` object passed in from JavaScript, if it is one.
    #[cfg(feature = "llm")]
    pub(crate) fn manager_of(value: &JsValue) -> Option<Rc<SessionManager>> {
        let key = js_sys::Reflect::get(value, &JsValue::from_str(KEY_PROPERTY))
            .ok()?
            .as_f64()?;
        REGISTRY.with(|r| {
            let r = r.borrow();
            let (_, m) = r.iter().find(|(k, _)| *k == key as u32)?;
            m.upgrade()
        })
    }

    pub(crate) async fn open_manager(config: &JsValue) -> JsResult<Rc<SessionManager>> {
        let manager_config = config::manager_config(config)?;
        let encryption = config::encryption_config(config)?;
        // Memory here, every other backend in a boxed future of its own (see `open_boxed`).
        #[cfg(feature = "sql")]
        let (store, shared_scope) = match config::storage_config(config)? {
            StorageConfig::Memory => (memory_store(), None),
            other => open_boxed(other).await?,
        };
        #[cfg(not(feature = "sql"))]
        let (store, shared_scope) = open_storage(config::storage_config(config)?).await?;
        let store: Rc<dyn Store> = match encryption {
            Some(source) => Rc::new(crypto::sealed_store(store, source).await?),
            None => store,
        };
        let manager = Rc::new(SessionManager::new(
            store,
            Rc::new(JsClock),
            Rc::new(CryptoRandom::new()),
            manager_config,
        ));
        // Storage other tabs and workers can open too: one writer per session, changes announced.
        if let Some(scope) = shared_scope {
            peers::connect(&manager, &scope);
        }
        Ok(manager)
    }
}

/// A store, and the name other contexts (tabs, workers) would open the same storage by.
type Opened = (Rc<dyn Store>, Option<String>);

// Cold start (bench/cold-start.md): the engine compiles a wasm function at its first call, the
// whole of it, and an `async fn` awaited inline becomes part of its caller's state machine. So
// the opening of every backend but memory is a boxed future made by a function of its own
// (`inline(never)`, so the compiler cannot see through the box): a store's first `open` over
// memory compiles none of their code (Node's figure: -12 KB of code compiled at the first `open`).
// Only in the server runtimes' module (the `sql` feature, which Node and workerd load): in the
// browser modules the box costs ~0.3 KB gzip, more than their budgets have left (bench/size.md).
#[cfg(feature = "sql")]
#[inline(never)]
fn open_boxed(
    config: StorageConfig,
) -> futures_util::future::LocalBoxFuture<'static, Result<Opened, Error>> {
    Box::pin(open_storage(config))
}

/// A new memory store: one function for the three places that make one (smaller code in the
/// server module; in the others, where the call is not smaller, it is inlined).
#[cfg_attr(feature = "sql", inline(never))]
#[cfg_attr(not(feature = "sql"), inline(always))]
fn memory_store() -> Rc<dyn Store> {
    Rc::new(MemoryStore::new())
}

/// Opens the configured backend; an unavailable one gives way to the configured fallback (with a
/// console warning, since the data will not outlive the page).
async fn open_storage(config: StorageConfig) -> Result<Opened, Error> {
    let (opened, fallback): (Result<Opened, Error>, _) = match config {
        StorageConfig::Memory => return Ok((memory_store(), None)),
        StorageConfig::IndexedDb { name, fallback } => (
            IndexedDbStore::open(&name)
                .await
                .map(|s| (Rc::new(s) as Rc<dyn Store>, Some(format!("idb:{name}")))),
            fallback,
        ),
        StorageConfig::LocalStorage { prefix, fallback } => (
            LocalStorageKv::open().map(|kv| {
                let scope = format!("ls:{prefix}");
                (
                    Rc::new(KvStore::new(kv, prefix)) as Rc<dyn Store>,
                    Some(scope),
                )
            }),
            fallback,
        ),
        // A host store (a Durable Object, Workers KV) has no tabs to coordinate with here.
        StorageConfig::Kv { kv, prefix } => return Ok((Rc::new(KvStore::new(kv, prefix)), None)),
        // A database serialises its writers itself (transactions, keys, PostgreSQL locks).
        StorageConfig::Sql(c) => return Ok((Rc::new(super::sql::open(c).await?), None)),
    };
    match (opened, fallback) {
        (Err(e), Some(Fallback::Memory)) if e.code == ErrorCode::StorageUnavailable => {
            web_sys::console::warn_1(&JsValue::from_str(&format!(
                "agent-sessions: {}; using memory storage as configured (fallback: \"memory\"), \
                 so sessions last only as long as this page",
                e.message
            )));
            Ok((memory_store(), None))
        }
        (other, _) => other,
    }
}

#[derive(Default)]
pub(crate) struct CreateOptionsJs {
    title: Option<String>,
    metadata: Option<Value>,
    max_messages: Option<u32>,
}

// The options are read by hand (core/record_read.rs): serde's derive would build a visitor each.
impl FromValue for CreateOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["title", "metadata", "maxMessages"], &[])?;
        Ok(CreateOptionsJs {
            title: f.opt_string("title")?,
            metadata: f.opt_value("metadata"),
            max_messages: f.opt_count32("maxMessages")?,
        })
    }
}

impl From<CreateOptionsJs> for CreateOptions {
    fn from(o: CreateOptionsJs) -> Self {
        CreateOptions {
            title: o.title,
            metadata: o.metadata,
            max_messages: o.max_messages,
        }
    }
}

pub(crate) fn create_options(options: &JsValue) -> JsResult<CreateOptions> {
    readable_metadata(options, "options")?;
    let o: Option<CreateOptionsJs> = from_js(options, "options", ErrorCode::InvalidArgument)?;
    Ok(o.unwrap_or_default().into())
}

#[derive(Default)]
struct ImportOptionsJs {
    id: Option<String>,
    overwrite: Option<bool>,
}

impl FromValue for ImportOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["id", "overwrite"], &[])?;
        Ok(ImportOptionsJs {
            id: f.opt_string("id")?,
            overwrite: f.opt_bool("overwrite")?,
        })
    }
}

#[derive(Default)]
struct QueryOptionsJs {
    limit: Option<f64>,
    cursor: Option<String>,
    order: Option<String>,
    direction: Option<String>,
}

impl FromValue for QueryOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["limit", "cursor", "order", "direction"], &[])?;
        Ok(QueryOptionsJs {
            limit: f.opt_number("limit")?,
            cursor: f.opt_string("cursor")?,
            order: f.opt_string("order")?,
            direction: f.opt_string("direction")?,
        })
    }
}

crate::deserialize_via_value!(
    CreateOptionsJs,
    ImportOptionsJs,
    QueryOptionsJs,
    MemoryEntryJs
);

/// AG-Kit's memory entry: `{ message: { id?, role, content, timestamp? }, state? }`.
struct MemoryEntryJs {
    message: NewMessage,
    state: Option<Value>,
}

impl FromValue for MemoryEntryJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "a memory entry")?;
        Ok(MemoryEntryJs {
            message: f.nested("message")?,
            state: f.opt_value("state"),
        })
    }
}

fn session_id_option(options: &JsValue) -> JsResult<String> {
    string_arg(
        &field(options, "sessionId", "options", ErrorCode::InvalidArgument)?,
        "options.sessionId",
        ErrorCode::InvalidId,
    )
}

/// AG-Kit's list shape: `{ message: { id, role, content, timestamp: Date, … }, state }`.
fn memory_entry(message: &crate::core::model::Message) -> JsResult<JsValue> {
    let m: Value = crate::core::json::parse(&crate::core::record_json::message_json(message))
        .map_err(|e| Error::internal(format!("could not encode a message: {e}")))?;
    // The metadata moves out of the message into `state`, by iteration and `insert`: no map
    // removal code, and no `collect` (a map's bulk build sorts: more code again).
    let mut state = Value::Null;
    let mut m2 = serde_json::Map::new();
    match m {
        Value::Object(o) => {
            for (k, v) in o {
                if k == "metadata" {
                    state = v;
                } else {
                    m2.insert(k, v);
                }
            }
        }
        _ => return Err(Error::internal("a message encoded as a non-object").into()),
    }
    let m = m2;
    let entry = to_js(&serde_json::json!({ "message": m, "state": state }))?;
    let msg = js_sys::Reflect::get(&entry, &"message".into())?;
    let date = js_sys::Date::new(&JsValue::from_f64(message.created_at));
    js_sys::Reflect::set(&msg, &"timestamp".into(), &date)?;
    Ok(entry)
}

#[wasm_bindgen]
impl SessionStore {
    /// `new SessionStore()` from JavaScript: refused with an error that says where one comes from
    /// (without this, wasm-bindgen's class would construct an empty shell that fails later).
    #[wasm_bindgen(constructor)]
    pub fn illegal_constructor() -> JsResult<SessionStore> {
        Err(illegal_constructor(
            "SessionStore",
            "`await SessionStore.open({ storage })`",
        ))
    }

    /// `await SessionStore.open({ storage, sessions, retention })`.
    pub fn open(config: JsValue) -> Promise {
        promise(async move {
            let manager = SessionStore::open_manager(&config).await?;
            Ok(SessionStore::from_manager(manager).into())
        })
    }

    #[wasm_bindgen(getter = __agentSessionsStoreKey)]
    pub fn store_key(&self) -> u32 {
        self.key
    }

    /// Creates a session (generated id when `id` is absent). `SESSION_EXISTS` if taken.
    pub fn create(&self, id: JsValue, options: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let id = opt_string(&id, "id", ErrorCode::InvalidId)?;
            let opts = create_options(&options)?;
            let session = manager.create(id.as_deref(), opts).await?;
            Ok(Session::new(manager, session).into())
        })
    }

    /// The session, or `null` when there is none.
    pub fn get(&self, id: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let id = string_arg(&id, "id", ErrorCode::InvalidId)?;
            Ok(match manager.get(&id).await? {
                Some(s) => Session::new(manager, s).into(),
                None => JsValue::NULL,
            })
        })
    }

    #[wasm_bindgen(js_name = getOrCreate)]
    pub fn get_or_create(&self, id: JsValue, options: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let id = string_arg(&id, "id", ErrorCode::InvalidId)?;
            let opts = create_options(&options)?;
            let (session, _) = manager.get_or_create(&id, opts).await?;
            Ok(Session::new(manager, session).into())
        })
    }

    /// Ids of every session in storage, oldest first.
    #[wasm_bindgen(js_name = listSessions)]
    pub fn list_sessions(&self) -> Promise {
        let manager = self.manager.clone();
        promise(async move { to_js(&manager.list_ids().await?) })
    }

    /// `{ sessions: SessionInfo[], nextCursor }`, newest `updatedAt` first by default.
    #[wasm_bindgen(js_name = querySessions)]
    pub fn query_sessions(&self, options: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let o: Option<QueryOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            let order = match o.order.as_deref() {
                None | Some("updatedAt") => SessionOrder::UpdatedAt,
                Some("createdAt") => SessionOrder::CreatedAt,
                Some(other) => {
                    return Err(Error::invalid_argument(format!(
                        "order must be \"updatedAt\" or \"createdAt\", not {}",
                        crate::core::json::quote(other)
                    ))
                    .into())
                }
            };
            let ascending = match o.direction.as_deref() {
                None | Some("desc") => false,
                Some("asc") => true,
                Some(other) => {
                    return Err(Error::invalid_argument(format!(
                        "direction must be \"asc\" or \"desc\", not {}",
                        crate::core::json::quote(other)
                    ))
                    .into())
                }
            };
            let limit = match o.limit {
                Some(l) if l.fract() != 0.0 || l < 1.0 => {
                    return Err(Error::invalid_argument("limit must be a positive integer").into())
                }
                Some(l) => Some(l.min(1e9) as usize),
                None => None,
            };
            let page = manager
                .query(QueryOptions {
                    limit,
                    cursor: o.cursor,
                    order,
                    ascending,
                })
                .await?;
            let sessions: Vec<_> = page.sessions.iter().map(|s| s.info()).collect();
            to_js(&serde_json::json!({
                "sessions": crate::core::json::value_of(&sessions),
                "nextCursor": page.next_cursor
            }))
        })
    }

    /// Deletes a session from memory and storage; resolves to whether it existed.
    pub fn delete(&self, id: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let id = string_arg(&id, "id", ErrorCode::InvalidId)?;
            Ok(JsValue::from_bool(manager.delete(&id).await?))
        })
    }

    /// Stores a bundle made by `session.export()` (the object or its JSON text). Options:
    /// `{ id }` to store it under another id, `{ overwrite: true }` to replace an existing one.
    #[wasm_bindgen(js_name = importSession)]
    pub fn import_session(&self, bundle: JsValue, options: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let bundle: Bundle = match bundle.as_string() {
                Some(text) => crate::core::json::read(&text).map_err(|e| {
                    Error::invalid_argument(format!("not a valid session export: {e}"))
                })?,
                None => from_js(&bundle, "bundle", ErrorCode::InvalidArgument)?,
            };
            let o: Option<ImportOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            let opts = ImportOptions {
                id: o.id,
                overwrite: o.overwrite.unwrap_or(false),
            };
            let session = manager.import(bundle, opts).await?;
            Ok(Session::new(manager, session).into())
        })
    }

    /// Deletes expired sessions (retention) and drops idle ones from memory; resolves to the ids
    /// deleted.
    pub fn sweep(&self) -> Promise {
        let manager = self.manager.clone();
        promise(async move { to_js(&manager.sweep().await?) })
    }

    /// AG-Kit: `await store.add({ message, state }, { sessionId })`. The session is created on
    /// first use.
    pub fn add(&self, entry: JsValue, options: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let session_id = session_id_option(&options)?;
            // A Date timestamp is read as its time value before the entry becomes JSON.
            let message = field(&entry, "message", "entry", ErrorCode::InvalidMessage)?;
            let timestamp = field(
                &message,
                "timestamp",
                "entry.message",
                ErrorCode::InvalidMessage,
            )?;
            let created_at = match timestamp.dyn_ref::<js_sys::Date>() {
                Some(d) => Some(d.get_time()),
                None => timestamp.as_f64(),
            };
            let parsed: MemoryEntryJs = from_js(&entry, "entry", ErrorCode::InvalidMessage)?;
            let mut new = parsed.message;
            new.created_at = created_at.or(new.created_at);
            new.metadata = parsed.state.or(new.metadata);
            manager
                .get_or_create(&session_id, CreateOptions::default())
                .await?;
            let stored = manager.add_message(&session_id, new).await?;
            memory_entry(&stored)
        })
    }

    /// AG-Kit: `await store.list({ sessionId, limit? })` → entries, oldest first; `[]` for a
    /// session that does not exist.
    pub fn list(&self, options: JsValue) -> Promise {
        let manager = self.manager.clone();
        promise(async move {
            let session_id = session_id_option(&options)?;
            let limit = field(&options, "limit", "options", ErrorCode::InvalidArgument)?
                .as_f64()
                .map(|l| l.max(0.0) as usize);
            let out = js_sys::Array::new();
            let history = match manager.history(&session_id, limit).await {
                Err(e) if e.code == ErrorCode::SessionNotFound => Vec::new(),
                other => other?,
            };
            for m in &history {
                out.push(&memory_entry(m)?);
            }
            Ok(out.into())
        })
    }

    /// Subscribes to `session:created|updated|reset|deleted|expired`, `message:added` or
    /// `run:updated`; returns the function that unsubscribes.
    pub fn on(&self, event: JsValue, listener: JsValue) -> JsResult<JsValue> {
        super::events::subscribe(&self.manager.events, &event, listener)
    }
}
