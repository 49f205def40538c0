//! The async storage contract every backend implements.
//!
//! Records are small and separate: one per session, one per message (keyed by session and `seq`),
//! one per run and per summary. Appending a message writes that message and the session record,
//! never the rest of the history; listing sessions reads session records only.
//!
//! Backends: [`memory`] (this instance only), [`kv`] (any string key-value store: localStorage,
//! a Durable Object's storage, Workers KV — the platform layer adapts them), and IndexedDB, which
//! has its own object stores in `platform/indexed_db.rs`, and [`sql`] (SQLite hosts and
//! PostgreSQL, over a driver the platform layer adapts).

pub mod kv;
pub mod memory;
pub mod sql;

use std::any::Any;

use async_trait::async_trait;

use crate::core::error::Result;
use crate::core::model::{Message, Run, Session, Summary};

pub use kv::{KvStore, MemoryKv};
pub use memory::MemoryStore;
pub use sql::{SqlDriver, SqlStore};

/// Which messages of a session to read. The result is always in ascending `seq` order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageQuery {
    /// Only messages with `seq >= from_seq`.
    pub from_seq: Option<u64>,
    /// Only messages with `seq < before_seq`.
    pub before_seq: Option<u64>,
    /// Only the newest `limit` of the messages in range.
    pub limit: Option<usize>,
}

impl MessageQuery {
    pub fn all() -> Self {
        MessageQuery::default()
    }

    pub fn newest(limit: usize) -> Self {
        MessageQuery {
            limit: Some(limit),
            ..MessageQuery::default()
        }
    }

    pub fn contains(&self, seq: u64) -> bool {
        self.from_seq.is_none_or(|f| seq >= f) && self.before_seq.is_none_or(|b| seq < b)
    }
}

/// A query's messages as the host's own values (for JavaScript hosts, a `JsValue` array of
/// message objects), handed from a backend to the bindings without passing through Rust types.
/// The core never looks inside; the bindings downcast it.
pub type HostMessages = Box<dyn Any>;

/// What an append writes, decided from the session record as stored (`None`: absent): the new
/// session record and the message. An error writes nothing and is the append's error.
pub type AppendBuild<'a> = &'a mut dyn FnMut(Option<Session>) -> Result<(Session, Message)>;

/// A storage backend. Futures are not `Send`: wasm is single-threaded, and so is each store.
///
/// Every method that writes several records writes them atomically where the backend can
/// (IndexedDB: one transaction) and in an order that a crash cannot turn into a torn state
/// elsewhere (message first, then the session record that counts it).
#[async_trait(?Send)]
pub trait Store {
    async fn get_session(&self, id: &str) -> Result<Option<Session>>;
    /// Creates or replaces a session record.
    async fn put_session(&self, session: &Session) -> Result<()>;
    /// Every session record, no messages. A record that cannot be read is left out (reading it
    /// by id reports `STORAGE_CORRUPT`), so one damaged session does not hide the others.
    async fn list_sessions(&self) -> Result<Vec<Session>>;
    /// Removes a session with its messages, runs and summaries. Absent is not an error, and
    /// nothing is parsed on the way, so a damaged session can always be deleted.
    async fn delete_session(&self, id: &str) -> Result<()>;

    /// Writes (inserts or replaces, by `seq`) one message together with its session's record.
    /// A `seq` that already holds a message with another id is never overwritten: that is another
    /// writer's append, and the call fails with [`Error::seq_taken`](crate::core::error::Error::seq_taken)
    /// without writing anything.
    async fn put_message(&self, session: &Session, message: &Message) -> Result<()>;
    /// Appends a new message in one step where the backend can: reads the session record (or
    /// takes `known`, the record as the caller knows it to be stored: it holds the lock every
    /// context honours and has written or read the session since taking it), lets `build`
    /// decide the message and the new record from it, and writes both, atomically with the read
    /// (IndexedDB: one `readwrite` transaction, which other tabs' writes cannot interleave). The message's `seq` must be free: a taken one fails with
    /// [`Error::seq_taken`](crate::core::error::Error::seq_taken) and nothing is written.
    /// `Ok(None)` (the default) means "not offered": the caller reads the session itself and
    /// calls [`put_message`](Store::put_message).
    async fn append_message(
        &self,
        _id: &str,
        _known: Option<Session>,
        _build: AppendBuild<'_>,
    ) -> Result<Option<(Session, Message)>> {
        Ok(None)
    }
    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>>;
    /// What [`get_messages`](Store::get_messages) would return, as the host's values, when the
    /// backend can hand its stored records over as they are: each one already exactly its public
    /// form (what this version writes, not sealed). `None` (the default) means "call
    /// `get_messages`", which decodes every record here and reports a damaged one as
    /// `STORAGE_CORRUPT`. A backend that answers must only answer with records that
    /// `get_messages` would have returned unchanged.
    async fn get_host_messages(
        &self,
        _session_id: &str,
        _query: MessageQuery,
    ) -> Result<Option<HostMessages>> {
        Ok(None)
    }
    /// Removes every message and summary of a session and writes its record (a reset).
    async fn clear_messages(&self, session: &Session) -> Result<()>;
    /// One write of a change to a session's messages (a truncation, `addMessages`): adds the
    /// `put` messages (new, at free `seq`s, ascending: one already held fails the call with
    /// [`Error::seq_taken`](crate::core::error::Error::seq_taken) before anything is written),
    /// writes the record and removes the messages at the `delete` seqs (absent ones are not an
    /// error). Atomically where the backend can (one transaction); elsewhere in that order, so an
    /// interruption leaves new messages the record does not count yet or old ones it no longer
    /// leads to, never a record leading to a message that is gone.
    async fn write_messages(
        &self,
        session: &Session,
        delete: &[u64],
        put: &[Message],
    ) -> Result<()>;

    async fn put_run(&self, run: &Run) -> Result<()>;
    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>>;

    async fn put_summary(&self, summary: &Summary) -> Result<()>;
    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>>;
    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()>;

    /// A small store-wide value (schema version, encryption salt and key check). Not a session's.
    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    async fn put_meta(&self, key: &str, value: &str) -> Result<()>;
}
