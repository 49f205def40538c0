//! IndexedDB as a [`Store`]: the default in browsers.
//!
//! Object stores (schema version [`SCHEMA_VERSION`]):
//!
//! | store | key | holds |
//! |---|---|---|
//! | `sessions` | `id` (in-line); index `updatedAt` | one record per session |
//! | `messages` | `[sessionId, seq]` (in-line) | one record per message |
//! | `runs`, `summaries` | auto-increment (creation order); indexes `sessionId`, unique `id` = `[sessionId, id]` | one record each |
//! | `meta` | out-of-line string | store-wide strings |
//!
//! Records are the JSON objects of `core::model`, so they are readable in the browser's devtools.
//! Every write is one `readwrite` transaction with durability `"strict"` (flushed to disk before
//! it completes): an append puts the message and the session record in the same transaction, so a
//! crash keeps both or neither. An append ([`Store::append_message`]) is that one transaction and
//! nothing else: it reads the session record inside it (or, when the manager holds the session's
//! Web Lock and has the record, not at all) and `add`s the message, which fails on a taken
//! position (the check against a writer that went around the record) and aborts the whole.
//! Reads touch only what they return: a session is one `get`, the newest N messages one
//! backwards cursor over the session's key range, listing sessions one `getAll` on the
//! `updatedAt` index; `getHistory` hands the stored message objects to JavaScript as they are
//! when each is exactly its public form (`records.js`), else decodes them here. Inside a
//! transaction only IndexedDB requests are awaited.
//!
//! Another tab opening a newer schema sends `versionchange`: this connection closes at once (so
//! that tab's upgrade is not blocked) and every later call fails with `STORAGE_UNAVAILABLE`.
//!
//! A thin wrapper over web-sys rather than a crate such as `indexed_db_futures`: we need a dozen
//! calls, our own error mapping (quota, corrupt record, closed connection) and control of the
//! `versionchange` and `blocked` events; a request is awaited by handing the Promise's own
//! `resolve`/`reject` to `onsuccess`/`onerror`, so no closure is allocated per request.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Array, Object, Promise, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbCursorDirection, IdbCursorWithValue, IdbDatabase, IdbFactory, IdbIndexParameters,
    IdbKeyRange, IdbObjectStore, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbVersionChangeEvent,
};

use super::storage_error::{storage_error, unavailable};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::model::{Message, Run, Session, Summary};
use crate::core::record_json;
use crate::core::record_read::FromValue;
use crate::core::store::{AppendBuild, HostMessages, MessageQuery, Store};

/// The database name when the configuration names none.
pub const DEFAULT_NAME: &str = "agent-sessions";

/// The schema this build creates, reached by applying [`upgrade`]'s steps in order; a database
/// at an older version is upgraded in place, its records kept.
pub const SCHEMA_VERSION: u32 = 2;

const SESSIONS: &str = "sessions";
const MESSAGES: &str = "messages";
const RUNS: &str = "runs";
const SUMMARIES: &str = "summaries";
const META: &str = "meta";
const BY_SESSION: &str = "sessionId";
const BY_ID: &str = "id";

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`, for the one call web-sys keeps behind an unstable flag.
    type DatabaseWithOptions;

    /// `db.transaction(names, mode, { durability })`.
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        names: &Array,
        mode: &str,
        options: &Object,
    ) -> std::result::Result<IdbTransaction, JsValue>;
}

/// Brings the schema to version `new`. Each step is one version; add a step to change the
/// schema, never edit an old one. Steps only create what is missing, so every step up to `new`
/// runs on every upgrade: a database someone else created at an older version (without our
/// stores) still ends up whole. `old` is there for steps that will migrate records.
fn upgrade(db: &IdbDatabase, _old: u32, new: u32) -> std::result::Result<(), JsValue> {
    let missing = |name: &str| !db.object_store_names().contains(name);
    let key_path = |path: &JsValue| {
        let p = IdbObjectStoreParameters::new();
        p.set_key_path(path);
        p
    };
    if new >= 1 {
        if missing(SESSIONS) {
            let sessions = db.create_object_store_with_optional_parameters(
                SESSIONS,
                &key_path(&JsValue::from_str("id")),
            )?;
            sessions.create_index_with_str("updatedAt", "updatedAt")?;
        }
        if missing(MESSAGES) {
            let compound: Array = ["sessionId", "seq"]
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect();
            db.create_object_store_with_optional_parameters(MESSAGES, &key_path(&compound))?;
        }
        if missing(META) {
            db.create_object_store(META)?;
        }
    }
    if new >= 2 {
        for name in [RUNS, SUMMARIES] {
            if !missing(name) {
                continue;
            }
            let p = IdbObjectStoreParameters::new();
            p.set_auto_increment(true);
            let store = db.create_object_store_with_optional_parameters(name, &p)?;
            store.create_index_with_str(BY_SESSION, "sessionId")?;
            let unique = IdbIndexParameters::new();
            unique.set_unique(true);
            let path: Array = ["sessionId", "id"]
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect();
            store.create_index_with_str_sequence_and_optional_parameters(BY_ID, &path, &unique)?;
        }
    }
    Ok(())
}

/// Stored message records handed to JavaScript as they are (`records.js`): a check that each is
/// exactly its public form instead of a crossing into Rust, a decode and a re-encode.
#[wasm_bindgen(module = "/src/platform/records.js")]
extern "C" {
    /// `records` itself when every one is exactly its public form, else `null`.
    #[wasm_bindgen(catch, js_name = publicRecords)]
    fn public_records(records: &JsValue, session_id: &str)
        -> std::result::Result<JsValue, JsValue>;
}

/// Resolves with the request's result; rejects with its error (a `DOMException`).
async fn wait(request: &IdbRequest) -> std::result::Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    match JsFuture::from(promise).await {
        Ok(_) => request.result(),
        Err(event) => Err(request
            .error()
            .ok()
            .flatten()
            .map(JsValue::from)
            .unwrap_or(event)),
    }
}

/// Resolves when the transaction has committed; rejects with why it aborted.
async fn commit(tx: &IdbTransaction) -> std::result::Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    match JsFuture::from(promise).await {
        Ok(_) => Ok(()),
        Err(event) => Err(tx.error().map(JsValue::from).unwrap_or(event)),
    }
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::internal(format!("could not encode a record: {e}")))?;
    record_js(&text)
}

/// A record as IndexedDB stores it, from its JSON text (`record_json`: the public form).
fn record_js(text: &str) -> Result<JsValue> {
    JSON::parse(text).map_err(|_| Error::internal("could not encode a record"))
}

fn message_js(message: &Message) -> Result<JsValue> {
    record_js(&record_json::message_json(message))
}

fn session_js(session: &Session) -> Result<JsValue> {
    record_js(&record_json::session_json(session))
}

/// A stored record back into a model type; anything unreadable is `STORAGE_CORRUPT` naming the
/// session.
fn from_js<T: FromValue>(value: &JsValue, session_id: &str, what: &str) -> Result<T> {
    let text = JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| Error::corrupt(Some(session_id), format!("{what} is not JSON")))?;
    crate::core::json::read(&text)
        .map_err(|e| Error::corrupt(Some(session_id), format!("{what}: {e}")))
}

/// A stored session record (`undefined`: absent), checked to be the session `id`'s.
fn session_record(value: &JsValue, id: &str) -> Result<Option<Session>> {
    if value.is_undefined() {
        return Ok(None);
    }
    let session: Session = from_js(value, id, "session record")?;
    if session.id != id {
        return Err(Error::corrupt(
            Some(id),
            "record holds another session's id",
        ));
    }
    Ok(Some(session))
}

fn key(session_id: &str, seq: f64) -> JsValue {
    Array::of2(&JsValue::from_str(session_id), &JsValue::from_f64(seq)).into()
}

/// All keys `[session_id, lo] ..< [session_id, hi]`.
fn seq_range(session_id: &str, lo: f64, hi: f64) -> std::result::Result<IdbKeyRange, JsValue> {
    IdbKeyRange::bound_with_lower_open_and_upper_open(
        &key(session_id, lo),
        &key(session_id, hi),
        false,
        true,
    )
}

fn factory() -> Result<IdbFactory> {
    let value = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB")).map_err(|e| {
        unavailable(format!(
            "IndexedDB is blocked here ({}); configure a fallback, e.g. storage: {{ type: \
             \"indexeddb\", fallback: \"memory\" }}",
            super::storage_error::error_name(&e)
        ))
    })?;
    if value.is_undefined() || value.is_null() {
        return Err(unavailable(
            "IndexedDB does not exist in this runtime (browsers and web workers have it); use \
             storage type \"memory\" or \"kv\", or configure fallback: \"memory\"",
        ));
    }
    value
        .dyn_into::<IdbFactory>()
        .map_err(|_| unavailable("globalThis.indexedDB is not an IDBFactory"))
}

pub struct IndexedDbStore {
    db: IdbDatabase,
    name: String,
    /// Set when another tab's upgrade (or the browser) closed the connection.
    closed: Rc<Cell<bool>>,
    _on_close: Closure<dyn FnMut()>,
    strict: Object,
}

impl Drop for IndexedDbStore {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        // An unused connection must not hold up another tab's upgrade.
        self.db.close();
    }
}

impl IndexedDbStore {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<Self> {
        Self::open_at_version(name, SCHEMA_VERSION).await
    }

    /// Opens at an older schema version: for testing the upgrade path only.
    #[doc(hidden)]
    pub async fn open_at_version(name: &str, version: u32) -> Result<Self> {
        let what = format!("IndexedDB database {}", crate::core::json::quote(name));
        let request: IdbOpenDbRequest = factory()?
            .open_with_u32(name, version)
            .map_err(|e| unavailable(format!("{what} cannot be opened: {}", describe(&e))))?;
        let failure: Rc<RefCell<Option<String>>> = Rc::default();
        let on_upgrade = {
            let request = request.clone();
            let failure = failure.clone();
            Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |ev: IdbVersionChangeEvent| {
                let outcome = request
                    .result()
                    .and_then(|db| upgrade(db.unchecked_ref(), ev.old_version() as u32, version));
                if let Err(e) = outcome {
                    *failure.borrow_mut() = Some(describe(&e));
                    if let Some(tx) = request.transaction() {
                        let _ = tx.abort();
                    }
                }
            })
        };
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let outcome = JsFuture::from(Promise::new(&mut |resolve, reject| {
            request.set_onsuccess(Some(&resolve));
            request.set_onerror(Some(&reject));
            request.set_onblocked(Some(&reject));
        }))
        .await;
        let db = match outcome {
            Ok(_) => {
                request.set_onupgradeneeded(None);
                request.result().map_err(|e| storage_error(&what, &e))?
            }
            Err(event) if event_type(&event) == "blocked" => {
                // The open goes on once the other connection closes: let it upgrade, then close
                // what it yields (nobody holds it any more).
                on_upgrade.forget();
                let late = Closure::once_into_js(move |ev: web_sys::Event| {
                    if let Some(db) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
                        .and_then(|r| r.result().ok())
                    {
                        db.unchecked_into::<IdbDatabase>().close();
                    }
                });
                request.set_onsuccess(Some(late.unchecked_ref()));
                request.set_onerror(None);
                return Err(unavailable(format!(
                    "{what} is held open at an older version by another tab or window that does \
                     not close it; close that tab and try again"
                )));
            }
            Err(_) => {
                request.set_onupgradeneeded(None);
                let error = request.error().ok().flatten().map(JsValue::from);
                let name = error.as_ref().map(super::storage_error::error_name);
                return Err(match (name.as_deref(), failure.borrow_mut().take()) {
                    (Some("VersionError"), _) => unavailable(format!(
                        "{what} was created by a newer version of agent-sessions (schema newer \
                         than {version}); update the library or use another database name"
                    )),
                    (_, Some(step)) => Error::new(
                        ErrorCode::Storage,
                        format!("{what} could not be upgraded to schema {version}: {step}"),
                    ),
                    _ => unavailable(format!(
                        "{what} cannot be opened: {}",
                        error.as_ref().map(describe).unwrap_or_default()
                    )),
                });
            }
        };
        let db: IdbDatabase = db.unchecked_into();
        let closed = Rc::new(Cell::new(false));
        let on_close = {
            let db = db.clone();
            let closed = closed.clone();
            Closure::<dyn FnMut()>::new(move || {
                closed.set(true);
                db.close();
            })
        };
        db.set_onversionchange(Some(on_close.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let strict = Object::new();
        let _ = Reflect::set(&strict, &"durability".into(), &"strict".into());
        Ok(IndexedDbStore {
            db,
            name: name.to_owned(),
            closed,
            _on_close: on_close,
            strict,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn what(&self) -> String {
        format!(
            "IndexedDB database {}",
            crate::core::json::quote(&self.name)
        )
    }

    fn closed_error(&self) -> Error {
        unavailable(format!(
            "{} was closed because another tab or window opened a newer version of it (or the \
             browser closed it); reload the page to continue",
            self.what()
        ))
    }

    fn fail(&self, thrown: JsValue) -> Error {
        if self.closed.get() {
            return self.closed_error();
        }
        storage_error(&self.what(), &thrown)
    }

    fn tx(&self, stores: &[&str], write: bool) -> Result<IdbTransaction> {
        if self.closed.get() {
            return Err(self.closed_error());
        }
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        let mode = if write { "readwrite" } else { "readonly" };
        self.db
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(&names, mode, &self.strict)
            .map_err(|e| self.fail(e))
    }

    fn store(&self, tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore> {
        tx.object_store(name).map_err(|e| self.fail(e))
    }

    async fn read(&self, request: std::result::Result<IdbRequest, JsValue>) -> Result<JsValue> {
        let request = request.map_err(|e| self.fail(e))?;
        wait(&request).await.map_err(|e| self.fail(e))
    }

    async fn done(&self, tx: &IdbTransaction) -> Result<()> {
        commit(tx).await.map_err(|e| self.fail(e))
    }

    /// One `put` in its own transaction.
    async fn put_one(&self, name: &str, value: &JsValue, key: Option<&JsValue>) -> Result<()> {
        let tx = self.tx(&[name], true)?;
        let store = self.store(&tx, name)?;
        match key {
            Some(k) => store.put_with_key(value, k),
            None => store.put(value),
        }
        .map_err(|e| self.fail(e))?;
        self.done(&tx).await
    }

    /// Upserts a run or summary by `[sessionId, id]`, keeping its first position.
    async fn put_ordered(
        &self,
        name: &str,
        session_id: &str,
        id: &str,
        value: JsValue,
    ) -> Result<()> {
        let tx = self.tx(&[name], true)?;
        let store = self.store(&tx, name)?;
        let index = store.index(BY_ID).map_err(|e| self.fail(e))?;
        let pair: JsValue = Array::of2(&session_id.into(), &id.into()).into();
        let existing = self.read(index.get_key(&pair)).await?;
        if existing.is_undefined() {
            store.put(&value)
        } else {
            store.put_with_key(&value, &existing)
        }
        .map_err(|e| self.fail(e))?;
        self.done(&tx).await
    }

    async fn get_ordered<T: FromValue>(
        &self,
        name: &str,
        session_id: &str,
        what: &str,
    ) -> Result<Vec<T>> {
        let tx = self.tx(&[name], false)?;
        let index = self
            .store(&tx, name)?
            .index(BY_SESSION)
            .map_err(|e| self.fail(e))?;
        // Index order is (sessionId, primary key): the auto-increment key is creation order.
        let all = self
            .read(index.get_all_with_key(&session_id.into()))
            .await?;
        Array::from(&all)
            .iter()
            .map(|v| from_js(&v, session_id, what))
            .collect()
    }

    /// Deletes every record of `name` that belongs to the session, without reading them.
    async fn delete_ordered(
        &self,
        tx: &IdbTransaction,
        name: &str,
        session_id: &str,
    ) -> Result<()> {
        let store = self.store(tx, name)?;
        let index = store.index(BY_SESSION).map_err(|e| self.fail(e))?;
        let keys = self
            .read(index.get_all_keys_with_key(&session_id.into()))
            .await?;
        for k in Array::from(&keys).iter() {
            store.delete(&k).map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// The stored records of a query's messages, oldest first, undecoded.
    async fn message_values(&self, session_id: &str, query: MessageQuery) -> Result<Array> {
        let lo = query.from_seq.unwrap_or(0) as f64;
        let hi = query.before_seq.map_or(f64::INFINITY, |b| b as f64);
        if lo >= hi || query.limit == Some(0) {
            return Ok(Array::new());
        }
        let range = seq_range(session_id, lo, hi).map_err(|e| self.fail(e))?;
        let tx = self.tx(&[MESSAGES], false)?;
        let store = self.store(&tx, MESSAGES)?;
        Ok(match query.limit {
            None => Array::from(&self.read(store.get_all_with_key(&range)).await?),
            Some(limit) => {
                // Newest first along the key range, stopping after `limit`: O(limit).
                let request = store
                    .open_cursor_with_range_and_direction(&range, IdbCursorDirection::Prev)
                    .map_err(|e| self.fail(e))?;
                let newest = Array::new();
                loop {
                    let cursor = wait(&request).await.map_err(|e| self.fail(e))?;
                    let Some(cursor) = cursor.dyn_ref::<IdbCursorWithValue>() else {
                        break;
                    };
                    newest.push(&cursor.value().map_err(|e| self.fail(e))?);
                    if newest.length() as usize >= limit {
                        break;
                    }
                    cursor.continue_().map_err(|e| self.fail(e))?;
                }
                newest.reverse()
            }
        })
    }

    fn all_messages(&self, session_id: &str) -> Result<IdbKeyRange> {
        seq_range(session_id, 0.0, f64::INFINITY).map_err(|e| self.fail(e))
    }
}

fn event_type(event: &JsValue) -> String {
    Reflect::get(event, &"type".into())
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default()
}

fn describe(thrown: &JsValue) -> String {
    let get = |k: &str| {
        Reflect::get(thrown, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    format!("{}: {}", get("name"), get("message"))
}

#[async_trait(?Send)]
impl Store for IndexedDbStore {
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let tx = self.tx(&[SESSIONS], false)?;
        let value = self
            .read(self.store(&tx, SESSIONS)?.get(&id.into()))
            .await?;
        session_record(&value, id)
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        self.put_one(SESSIONS, &session_js(session)?, None).await
    }

    async fn list_sessions(&self) -> Result<Vec<Session>> {
        let tx = self.tx(&[SESSIONS], false)?;
        let index = self
            .store(&tx, SESSIONS)?
            .index("updatedAt")
            .map_err(|e| self.fail(e))?;
        let all = self.read(index.get_all()).await?;
        // A damaged record is left out (see `Store::list_sessions`).
        Ok(Array::from(&all)
            .iter()
            .filter_map(|v| from_js(&v, "", "session record").ok())
            .collect())
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        let tx = self.tx(&[SESSIONS, MESSAGES, RUNS, SUMMARIES], true)?;
        let range = self.all_messages(id)?;
        self.store(&tx, MESSAGES)?
            .delete(&range)
            .map_err(|e| self.fail(e))?;
        self.store(&tx, SESSIONS)?
            .delete(&id.into())
            .map_err(|e| self.fail(e))?;
        self.delete_ordered(&tx, RUNS, id).await?;
        self.delete_ordered(&tx, SUMMARIES, id).await?;
        self.done(&tx).await
    }

    async fn put_message(&self, session: &Session, message: &Message) -> Result<()> {
        let (m, s) = (message_js(message)?, session_js(session)?);
        let tx = self.tx(&[MESSAGES, SESSIONS], true)?;
        let messages = self.store(&tx, MESSAGES)?;
        // The seq-slot check, inside the transaction: IndexedDB runs overlapping readwrite
        // transactions one at a time across tabs, so this is atomic even without Web Locks.
        let key: Array = [
            JsValue::from_str(&session.id),
            JsValue::from_f64(message.seq as f64),
        ]
        .into_iter()
        .collect();
        let existing = self.read(messages.get(&key)).await?;
        if !existing.is_undefined() {
            let holder = Reflect::get(&existing, &JsValue::from_str("id"))
                .ok()
                .and_then(|v| v.as_string());
            if holder.as_deref() != Some(message.id.as_str()) {
                let _ = tx.abort();
                return Err(Error::seq_taken(&session.id, message.seq));
            }
        }
        messages.put(&m).map_err(|e| self.fail(e))?;
        self.store(&tx, SESSIONS)?
            .put(&s)
            .map_err(|e| self.fail(e))?;
        self.done(&tx).await
    }

    async fn append_message(
        &self,
        id: &str,
        known: Option<Session>,
        build: AppendBuild<'_>,
    ) -> Result<Option<(Session, Message)>> {
        // One transaction: the session record is read, the message placed after it, and both
        // written; IndexedDB runs overlapping readwrite transactions one at a time (across tabs
        // too), so nothing can land between the read and the writes.
        let tx = self.tx(&[MESSAGES, SESSIONS], true)?;
        let sessions = self.store(&tx, SESSIONS)?;
        let stored = match known {
            // The caller holds the session's cross-context lock and knows the record: a read
            // here would be a round trip to the database for what it already has.
            Some(session) => Ok(Some(session)),
            None => session_record(&self.read(sessions.get(&id.into())).await?, id),
        };
        let decided = stored
            .and_then(&mut *build)
            .and_then(|(s, m)| Ok((message_js(&m)?, session_js(&s)?, s, m)));
        let (m_js, s_js, session, message) = match decided {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        // `add`, not `put`: the position check. A message already at this seq (a writer that did
        // not go through this session record) fails the request with a ConstraintError, which
        // aborts the transaction: nothing is written.
        let added = self
            .store(&tx, MESSAGES)?
            .add(&m_js)
            .map_err(|e| self.fail(e))?;
        sessions.put(&s_js).map_err(|e| self.fail(e))?;
        match commit(&tx).await {
            Ok(()) => Ok(Some((session, message))),
            Err(e) => {
                let constraint = added
                    .error()
                    .ok()
                    .flatten()
                    .is_some_and(|d| d.name() == "ConstraintError");
                if constraint && !self.closed.get() {
                    Err(Error::seq_taken(id, message.seq))
                } else {
                    Err(self.fail(e))
                }
            }
        }
    }

    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>> {
        self.message_values(session_id, query)
            .await?
            .iter()
            .map(|v| {
                let m: Message = from_js(&v, session_id, "message")?;
                if m.session_id != session_id {
                    return Err(Error::corrupt(
                        Some(session_id),
                        format!("message {} belongs to another session", m.id),
                    ));
                }
                Ok(m)
            })
            .collect()
    }

    async fn get_host_messages(
        &self,
        session_id: &str,
        query: MessageQuery,
    ) -> Result<Option<HostMessages>> {
        let values = self.message_values(session_id, query).await?;
        // Anything not exactly its public form (an older record, a damaged one) goes the
        // decoding way, which fills defaults and reports damage.
        match public_records(&values, session_id) {
            Ok(v) if !v.is_null() => Ok(Some(Box::new(v))),
            _ => Ok(None),
        }
    }

    async fn clear_messages(&self, session: &Session) -> Result<()> {
        let s = session_js(session)?;
        let tx = self.tx(&[SESSIONS, MESSAGES, SUMMARIES], true)?;
        let range = self.all_messages(&session.id)?;
        self.store(&tx, MESSAGES)?
            .delete(&range)
            .map_err(|e| self.fail(e))?;
        self.store(&tx, SESSIONS)?
            .put(&s)
            .map_err(|e| self.fail(e))?;
        self.delete_ordered(&tx, SUMMARIES, &session.id).await?;
        self.done(&tx).await
    }

    /// One `readwrite` transaction. `add` for the new messages: a `seq` already held fails its
    /// request with a ConstraintError, which aborts the transaction (its error is that one), so
    /// nothing is written.
    async fn write_messages(
        &self,
        session: &Session,
        delete: &[u64],
        put: &[Message],
    ) -> Result<()> {
        let s = session_js(session)?;
        let values = put.iter().map(message_js).collect::<Result<Vec<_>>>()?;
        let tx = self.tx(&[SESSIONS, MESSAGES], true)?;
        let messages = self.store(&tx, MESSAGES)?;
        for &seq in delete {
            let key: Array = [
                JsValue::from_str(&session.id),
                JsValue::from_f64(seq as f64),
            ]
            .into_iter()
            .collect();
            messages.delete(&key).map_err(|e| self.fail(e))?;
        }
        for v in &values {
            messages.add(v).map_err(|e| self.fail(e))?;
        }
        self.store(&tx, SESSIONS)?
            .put(&s)
            .map_err(|e| self.fail(e))?;
        commit(&tx).await.map_err(|e| {
            let constraint = e
                .dyn_ref::<web_sys::DomException>()
                .is_some_and(|d| d.name() == "ConstraintError");
            match put.first() {
                Some(m) if constraint && !self.closed.get() => Error::seq_taken(&session.id, m.seq),
                _ => self.fail(e),
            }
        })
    }

    async fn put_run(&self, run: &Run) -> Result<()> {
        self.put_ordered(RUNS, &run.session_id, &run.id, to_js(run)?)
            .await
    }

    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>> {
        self.get_ordered(RUNS, session_id, "run").await
    }

    async fn put_summary(&self, summary: &Summary) -> Result<()> {
        self.put_ordered(SUMMARIES, &summary.session_id, &summary.id, to_js(summary)?)
            .await
    }

    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>> {
        self.get_ordered(SUMMARIES, session_id, "summary").await
    }

    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()> {
        let tx = self.tx(&[SUMMARIES], true)?;
        let store = self.store(&tx, SUMMARIES)?;
        let index = store.index(BY_ID).map_err(|e| self.fail(e))?;
        let pair: JsValue = Array::of2(&session_id.into(), &summary_id.into()).into();
        let existing = self.read(index.get_key(&pair)).await?;
        if !existing.is_undefined() {
            store.delete(&existing).map_err(|e| self.fail(e))?;
        }
        self.done(&tx).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        let tx = self.tx(&[META], false)?;
        let value = self.read(self.store(&tx, META)?.get(&key.into())).await?;
        Ok(value.as_string())
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.put_one(META, &value.into(), Some(&key.into())).await
    }
}
