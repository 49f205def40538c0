//! A [`Store`] over any string key-value backend, and the record layout it writes. localStorage,
//! a Durable Object's `state.storage`, a Workers KV namespace and any `get/put/delete/list` object
//! are thin [`KvBackend`] adapters in the platform layer; [`MemoryKv`] is one over a `BTreeMap`.
//!
//! Layout under a prefix `P` (ids escaped so that `/` only ever separates):
//!
//! | key | value |
//! |---|---|
//! | `P s/{session}` | the session record (JSON) |
//! | `P d/{session}/m/{seq as 16 hex digits}` | one message |
//! | `P d/{session}/runs` | run ids in creation order (JSON array) |
//! | `P d/{session}/r/{run}` | one run |
//! | `P d/{session}/sums` | summary ids in creation order |
//! | `P d/{session}/u/{summary}` | one summary |
//! | `P meta/{key}` | a store-wide value |
//!
//! Why this shape:
//! - Listing sessions lists `P s/` only: no message is read.
//! - Everything else of a session lives under one prefix `P d/{session}/`, so deleting a session
//!   lists that prefix and deletes the keys without parsing any of them (a damaged session can be
//!   deleted); it deletes the data first and the session record last, so an interrupted delete
//!   leaves a session that can be deleted again, never orphans.
//! - Messages are read by direct gets, never by listing: the session record says which `seq`s
//!   exist (`nextSeq - messageCount .. nextSeq`, contiguous because seqs are handed out in order
//!   and only a reset removes messages; a session with branches, where a truncation can leave
//!   gaps and the count is the active path's, records `firstSeq` and reads `firstSeq .. nextSeq`,
//!   skipping the gaps), so the newest `N` cost `N + 1` gets however long the
//!   history is. Listing is also eventually consistent on Workers KV; gets of known keys are not
//!   affected by a list's lag.
//! - An append writes the message, then the session record (atomically where the backend offers
//!   a multi-key put): a crash between the two leaves a message past `nextSeq`, invisible and
//!   overwritten by the next append.
//! - A reset writes the session record first (count 0), then deletes the old messages; whatever
//!   an interruption leaves behind is outside the record's range and is removed with the session.
//! - Runs and summaries keep their creation order in a small index record, since their ids are
//!   random and two may share a millisecond.

use std::cell::RefCell;
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use super::{MessageQuery, Store};
use crate::core::error::{Error, Result};
use crate::core::io::KvBackend;
use crate::core::model::{Message, Run, Session, Summary};
use crate::core::record_read::FromValue;

/// The prefix used when the configuration names none.
pub const DEFAULT_PREFIX: &str = "agent-sessions/";

/// How record keys are spelt. Public so that tests (and tools) can address a raw record.
pub mod keys {
    /// `%` and `/` escaped, so an id never contains the separator.
    pub fn escape(id: &str) -> String {
        let mut out = String::with_capacity(id.len());
        for c in id.chars() {
            match c {
                '%' => out.push_str("%25"),
                '/' => out.push_str("%2F"),
                c => out.push(c),
            }
        }
        out
    }

    pub fn sessions(prefix: &str) -> String {
        format!("{prefix}s/")
    }

    pub fn session(prefix: &str, id: &str) -> String {
        format!("{prefix}s/{}", escape(id))
    }

    /// Everything of a session except its record.
    pub fn data(prefix: &str, id: &str) -> String {
        format!("{prefix}d/{}/", escape(id))
    }

    pub fn message(prefix: &str, id: &str, seq: u64) -> String {
        format!("{}m/{seq:016x}", data(prefix, id))
    }

    pub fn runs(prefix: &str, id: &str) -> String {
        format!("{}runs", data(prefix, id))
    }

    pub fn run(prefix: &str, id: &str, run_id: &str) -> String {
        format!("{}r/{}", data(prefix, id), escape(run_id))
    }

    pub fn summaries(prefix: &str, id: &str) -> String {
        format!("{}sums", data(prefix, id))
    }

    pub fn summary(prefix: &str, id: &str, summary_id: &str) -> String {
        format!("{}u/{}", data(prefix, id), escape(summary_id))
    }

    pub fn meta(prefix: &str, key: &str) -> String {
        format!("{prefix}meta/{}", escape(key))
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("could not encode: {e}")))
}

fn decode<T: FromValue>(text: &str, session_id: &str, what: &str) -> Result<T> {
    crate::core::json::read(text)
        .map_err(|e| Error::corrupt(Some(session_id), format!("{what}: {e}")))
}

/// The sessions, messages, runs and summaries of one prefix of a [`KvBackend`]. The backend is
/// boxed rather than a type parameter: one copy of this code serves every adapter (wasm size).
pub struct KvStore {
    kv: Box<dyn KvBackend>,
    prefix: String,
}

impl KvStore {
    pub fn new(kv: impl KvBackend + 'static, prefix: impl Into<String>) -> Self {
        KvStore {
            kv: Box::new(kv),
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// An ordered id list (runs, summaries); absent reads as empty.
    async fn read_index(&self, key: &str, session_id: &str) -> Result<Vec<String>> {
        match self.kv.get(key).await? {
            // Read as a `Value`, not a `Vec<String>` (see `SealedStore::open_summary`).
            Some(text) => match crate::core::json::parse(&text)
                .map_err(|e| Error::corrupt(Some(session_id), format!("index: {e}")))?
            {
                serde_json::Value::Array(ids) => ids
                    .into_iter()
                    .map(|id| match id {
                        serde_json::Value::String(id) => Ok(id),
                        _ => Err(Error::corrupt(
                            Some(session_id),
                            "index: an id is not a string",
                        )),
                    })
                    .collect(),
                _ => Err(Error::corrupt(Some(session_id), "index: not a list of ids")),
            },
            None => Ok(Vec::new()),
        }
    }

    /// Writes `record` under `record_key` and, when new, appends `id` to the index at `index_key`.
    async fn put_indexed(
        &self,
        session_id: &str,
        index_key: &str,
        id: &str,
        record_key: String,
        record: String,
    ) -> Result<()> {
        let mut index = self.read_index(index_key, session_id).await?;
        if index.iter().any(|x| x == id) {
            return self.kv.put(&record_key, &record).await;
        }
        index.push(id.to_owned());
        // Record first: an interrupted write leaves an unlisted record, never a dangling id.
        self.kv
            .put_many(&[
                (record_key, record),
                (index_key.to_owned(), encode(&index)?),
            ])
            .await
    }

    async fn read_indexed<T: FromValue>(
        &self,
        session_id: &str,
        index_key: &str,
        key_of: impl Fn(&str) -> String,
        what: &str,
    ) -> Result<Vec<T>> {
        let index = self.read_index(index_key, session_id).await?;
        let keys: Vec<String> = index.iter().map(|id| key_of(id)).collect();
        let mut out = Vec::with_capacity(keys.len());
        for text in self.kv.get_many(&keys).await?.into_iter().flatten() {
            out.push(decode(&text, session_id, what)?);
        }
        Ok(out)
    }
}

#[async_trait(?Send)]
impl Store for KvStore {
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let Some(text) = self.kv.get(&keys::session(&self.prefix, id)).await? else {
            return Ok(None);
        };
        let session: Session = decode(&text, id, "session record")?;
        if session.id != id {
            return Err(Error::corrupt(
                Some(id),
                "record holds another session's id",
            ));
        }
        Ok(Some(session))
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        self.kv
            .put(
                &keys::session(&self.prefix, &session.id),
                &crate::core::record_json::session_json(session),
            )
            .await
    }

    /// Records that cannot be read are left out: one damaged session must not hide the others
    /// (reading it by id reports `STORAGE_CORRUPT`; deleting it works).
    async fn list_sessions(&self) -> Result<Vec<Session>> {
        let keys = self.kv.list(&keys::sessions(&self.prefix)).await?;
        let values = self.kv.get_many(&keys).await?;
        Ok(values
            .into_iter()
            .flatten()
            .filter_map(|text| crate::core::json::read(&text).ok())
            .collect())
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        let data = self.kv.list(&keys::data(&self.prefix, id)).await?;
        self.kv.delete_many(&data).await?;
        self.kv.delete(&keys::session(&self.prefix, id)).await
    }

    async fn put_message(&self, session: &Session, message: &Message) -> Result<()> {
        let key = keys::message(&self.prefix, &session.id, message.seq);
        // The seq-slot check (atomic within one tab or one Durable Object; best effort across
        // tabs over localStorage, where Web Locks serialise writers).
        if let Some(text) = self.kv.get(&key).await? {
            let holder = crate::core::json::parse(&text).ok();
            let holder_id = holder.as_ref().and_then(|h| h.get("id")?.as_str());
            if holder_id != Some(message.id.as_str()) {
                return Err(Error::seq_taken(&session.id, message.seq));
            }
        }
        self.kv
            .put_many(&[
                (key, crate::core::record_json::message_json(message)),
                (
                    keys::session(&self.prefix, &session.id),
                    crate::core::record_json::session_json(session),
                ),
            ])
            .await
    }

    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>> {
        let Some(session) = self.get_session(session_id).await? else {
            return Ok(Vec::new());
        };
        // With branches the record says where the range starts (the count is the active path's).
        let mut lo = session
            .first_seq
            .unwrap_or_else(|| session.next_seq.saturating_sub(session.message_count));
        let mut hi = session.next_seq;
        lo = lo.max(query.from_seq.unwrap_or(0));
        hi = hi.min(query.before_seq.unwrap_or(u64::MAX));
        if let Some(limit) = query.limit {
            lo = lo.max(hi.saturating_sub(limit as u64));
        }
        if lo >= hi {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = (lo..hi)
            .map(|seq| keys::message(&self.prefix, session_id, seq))
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        // A missing seq (an eventually consistent store that has not caught up) is skipped.
        for (seq, text) in (lo..hi).zip(self.kv.get_many(&keys).await?) {
            let Some(text) = text else { continue };
            let message: Message = decode(&text, session_id, &format!("message {seq}"))?;
            if message.seq != seq || message.session_id != session_id {
                return Err(Error::corrupt(
                    Some(session_id),
                    format!("the record at seq {seq} holds another message"),
                ));
            }
            out.push(message);
        }
        Ok(out)
    }

    async fn clear_messages(&self, session: &Session) -> Result<()> {
        self.put_session(session).await?;
        let data = keys::data(&self.prefix, &session.id);
        let doomed: Vec<String> = self
            .kv
            .list(&data)
            .await?
            .into_iter()
            .filter(|k| {
                let rest = &k[data.len().min(k.len())..];
                rest.starts_with("m/") || rest.starts_with("u/") || rest == "sums"
            })
            .collect();
        self.kv.delete_many(&doomed).await
    }

    /// In the crash order: the new messages with the record (one `put_many`: atomic on a
    /// Durable Object, in order elsewhere), then the deletions.
    async fn write_messages(
        &self,
        session: &Session,
        delete: &[u64],
        put: &[Message],
    ) -> Result<()> {
        let key = |seq: u64| keys::message(&self.prefix, &session.id, seq);
        let new: Vec<String> = put.iter().map(|m| key(m.seq)).collect();
        let held = self.kv.get_many(&new).await?;
        if let Some((_, m)) = held.iter().zip(put).find(|(h, _)| h.is_some()) {
            return Err(Error::seq_taken(&session.id, m.seq));
        }
        let mut entries: Vec<(String, String)> = new
            .into_iter()
            .zip(put)
            .map(|(k, m)| (k, crate::core::record_json::message_json(m)))
            .collect();
        entries.push((
            keys::session(&self.prefix, &session.id),
            crate::core::record_json::session_json(session),
        ));
        self.kv.put_many(&entries).await?;
        let doomed: Vec<String> = delete.iter().map(|&seq| key(seq)).collect();
        self.kv.delete_many(&doomed).await
    }

    async fn put_run(&self, run: &Run) -> Result<()> {
        let sid = &run.session_id;
        self.put_indexed(
            sid,
            &keys::runs(&self.prefix, sid),
            &run.id,
            keys::run(&self.prefix, sid, &run.id),
            encode(run)?,
        )
        .await
    }

    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>> {
        self.read_indexed(
            session_id,
            &keys::runs(&self.prefix, session_id),
            |id| keys::run(&self.prefix, session_id, id),
            "run",
        )
        .await
    }

    async fn put_summary(&self, summary: &Summary) -> Result<()> {
        let sid = &summary.session_id;
        self.put_indexed(
            sid,
            &keys::summaries(&self.prefix, sid),
            &summary.id,
            keys::summary(&self.prefix, sid, &summary.id),
            encode(summary)?,
        )
        .await
    }

    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>> {
        self.read_indexed(
            session_id,
            &keys::summaries(&self.prefix, session_id),
            |id| keys::summary(&self.prefix, session_id, id),
            "summary",
        )
        .await
    }

    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()> {
        let index_key = keys::summaries(&self.prefix, session_id);
        let mut index = self.read_index(&index_key, session_id).await?;
        if let Some(pos) = index.iter().position(|x| x == summary_id) {
            index.remove(pos);
            self.kv.put(&index_key, &encode(&index)?).await?;
        }
        self.kv
            .delete(&keys::summary(&self.prefix, session_id, summary_id))
            .await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        self.kv.get(&keys::meta(&self.prefix, key)).await
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.kv.put(&keys::meta(&self.prefix, key), value).await
    }
}

/// A [`KvBackend`] over a `BTreeMap`: the native tests' backend, and a reference for adapters.
/// Cloning shares the map, so a second store over a clone sees the same data (a "restart").
#[derive(Clone, Default)]
pub struct MemoryKv {
    map: std::rc::Rc<RefCell<BTreeMap<String, String>>>,
}

impl MemoryKv {
    pub fn new() -> Self {
        MemoryKv::default()
    }

    /// Writes a raw value (tests use it to damage a record).
    pub fn set_raw(&self, key: &str, value: &str) {
        self.map
            .borrow_mut()
            .insert(key.to_owned(), value.to_owned());
    }

    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    /// Every key and value, in key order (tests read the raw records).
    pub fn entries(&self) -> Vec<(String, String)> {
        self.map
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.map.borrow().is_empty()
    }
}

#[async_trait(?Send)]
impl KvBackend for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.map.borrow().get(key).cloned())
    }

    async fn put(&self, key: &str, value: &str) -> Result<()> {
        self.set_raw(key, value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.map.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .map
            .borrow()
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_ids_never_share_a_prefix() {
        // "a" and "a/b" must not overlap: deleting "a" lists "d/a/" only.
        assert_eq!(keys::data("P", "a"), "Pd/a/");
        assert_eq!(keys::data("P", "a/b"), "Pd/a%2Fb/");
        assert_eq!(keys::escape("50%/x"), "50%25%2Fx");
        assert!(!keys::data("P", "a%2Fb").starts_with(&keys::data("P", "a")));
        assert_ne!(keys::data("P", "a%2Fb"), keys::data("P", "a/b"));
    }

    /// Counts the backend calls a store makes.
    #[derive(Default)]
    struct Counting {
        inner: MemoryKv,
        gets: std::cell::Cell<usize>,
        lists: std::cell::Cell<usize>,
    }

    #[async_trait(?Send)]
    impl KvBackend for std::rc::Rc<Counting> {
        async fn get(&self, key: &str) -> Result<Option<String>> {
            self.gets.set(self.gets.get() + 1);
            self.inner.get(key).await
        }
        async fn put(&self, key: &str, value: &str) -> Result<()> {
            self.inner.put(key, value).await
        }
        async fn delete(&self, key: &str) -> Result<()> {
            self.inner.delete(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>> {
            self.lists.set(self.lists.get() + 1);
            self.inner.list(prefix).await
        }
    }

    #[test]
    fn newest_messages_cost_their_number_of_gets_and_listing_reads_no_message() {
        futures_executor::block_on(async {
            let counting = std::rc::Rc::new(Counting::default());
            let store = KvStore::new(counting.clone(), "");
            let mut s = Session::new("s".into(), 0.0);
            store.put_session(&s).await.unwrap();
            for seq in 0..3000 {
                let m: Message = serde_json::from_value(serde_json::json!({
                    "id": format!("m{seq}"), "sessionId": "s", "seq": seq, "role": "user",
                    "content": "x", "createdAt": 0.0
                }))
                .unwrap();
                s.next_seq = seq + 1;
                s.message_count += 1;
                store.put_message(&s, &m).await.unwrap();
            }
            counting.gets.set(0);
            let newest = store
                .get_messages("s", MessageQuery::newest(20))
                .await
                .unwrap();
            assert_eq!(newest.len(), 20);
            assert_eq!(
                counting.gets.get(),
                21,
                "the session record and 20 messages"
            );
            assert_eq!(counting.lists.get(), 0, "no listing");
            counting.gets.set(0);
            assert_eq!(store.list_sessions().await.unwrap().len(), 1);
            assert_eq!(counting.gets.get(), 1, "one session record, no message");
        });
    }

    #[test]
    fn message_keys_sort_by_seq() {
        let a = keys::message("", "s", 9);
        let b = keys::message("", "s", 10);
        let c = keys::message("", "s", 0x1_0000);
        assert!(a < b && b < c, "{a} {b} {c}");
    }
}
