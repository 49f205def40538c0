//! The in-memory backend: everything lives in this instance and is gone with it. The reference
//! the other backends are tested against.

use std::cell::RefCell;

use async_trait::async_trait;

use super::{AppendBuild, MessageQuery, Store};
use crate::core::error::{Error, Result};
use crate::core::model::{Message, Run, Session, Summary};

/// One entry per session id, in id order, found by binary search; a session's messages are a
/// `Vec` in `seq` order, found the same way. (A `BTreeMap` per kind of record, and one per
/// session for its messages, cost ~40 KB of wasm in map code.)
#[derive(Default)]
struct MemoryState {
    sessions: Sorted<Entry>,
    meta: Sorted<String>,
}

/// Values by string key, in key order.
struct Sorted<T>(Vec<(String, T)>);

impl<T> Default for Sorted<T> {
    fn default() -> Self {
        Sorted(Vec::new())
    }
}

impl<T: Default> Sorted<T> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    fn get(&self, key: &str) -> Option<&T> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    /// The value under `key`, inserted as the default when absent.
    fn entry(&mut self, key: &str) -> &mut T {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key.to_owned(), T::default()));
                i
            }
        };
        &mut self.0[i].1
    }

    fn remove(&mut self, key: &str) {
        if let Ok(i) = self.find(key) {
            self.0.remove(i);
        }
    }

    fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }
}

#[derive(Default)]
struct Entry {
    /// `None` while only runs or summaries were written under this id.
    session: Option<Session>,
    /// In `seq` order.
    messages: Vec<Message>,
    /// In creation order (run id → position by a linear scan: runs are few).
    runs: Vec<Run>,
    summaries: Vec<Summary>,
}

/// Keeps everything in this instance's memory. Gone when the instance is.
#[derive(Default)]
pub struct MemoryStore {
    state: RefCell<MemoryState>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

/// Upserts by id, keeping the first insertion's position.
fn upsert<T: Clone>(items: &mut Vec<T>, item: &T, same: impl Fn(&T) -> bool) {
    match items.iter_mut().find(|x| same(x)) {
        Some(slot) => *slot = item.clone(),
        None => items.push(item.clone()),
    }
}

#[async_trait(?Send)]
impl Store for MemoryStore {
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let st = self.state.borrow();
        Ok(st.sessions.get(id).and_then(|e| e.session.clone()))
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        self.state.borrow_mut().sessions.entry(&session.id).session = Some(session.clone());
        Ok(())
    }

    async fn list_sessions(&self) -> Result<Vec<Session>> {
        let st = self.state.borrow();
        Ok(st
            .sessions
            .values()
            .filter_map(|e| e.session.clone())
            .collect())
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        self.state.borrow_mut().sessions.remove(id);
        Ok(())
    }

    async fn put_message(&self, session: &Session, message: &Message) -> Result<()> {
        let mut st = self.state.borrow_mut();
        let entry = st.sessions.entry(&session.id);
        match entry.messages.binary_search_by_key(&message.seq, |m| m.seq) {
            Ok(i) if entry.messages[i].id != message.id => {
                return Err(Error::seq_taken(&session.id, message.seq));
            }
            Ok(i) => entry.messages[i] = message.clone(),
            Err(i) => entry.messages.insert(i, message.clone()),
        }
        entry.session = Some(session.clone());
        Ok(())
    }

    async fn append_message(
        &self,
        id: &str,
        _known: Option<Session>,
        build: AppendBuild<'_>,
    ) -> Result<Option<(Session, Message)>> {
        // Reading the record here costs nothing: `known` is not needed.
        let stored = self.get_session(id).await?;
        let (session, message) = build(stored)?;
        let mut st = self.state.borrow_mut();
        let entry = st.sessions.entry(&session.id);
        match entry.messages.binary_search_by_key(&message.seq, |m| m.seq) {
            Ok(_) => return Err(Error::seq_taken(&session.id, message.seq)),
            Err(i) => entry.messages.insert(i, message.clone()),
        }
        entry.session = Some(session.clone());
        Ok(Some((session, message)))
    }

    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>> {
        let st = self.state.borrow();
        let Some(entry) = st.sessions.get(session_id) else {
            return Ok(Vec::new());
        };
        let all = &entry.messages;
        let lo = all.partition_point(|m| m.seq < query.from_seq.unwrap_or(0));
        let hi = all.partition_point(|m| m.seq < query.before_seq.unwrap_or(u64::MAX));
        if lo >= hi {
            return Ok(Vec::new());
        }
        // The newest `limit` of the range: a small window of a long history costs only the window.
        let from = query
            .limit
            .map_or(lo, |limit| hi.saturating_sub(limit).max(lo));
        Ok(all[from..hi].to_vec())
    }

    async fn clear_messages(&self, session: &Session) -> Result<()> {
        let mut st = self.state.borrow_mut();
        let entry = st.sessions.entry(&session.id);
        entry.messages.clear();
        entry.summaries.clear();
        entry.session = Some(session.clone());
        Ok(())
    }

    async fn write_messages(
        &self,
        session: &Session,
        delete: &[u64],
        put: &[Message],
    ) -> Result<()> {
        let mut st = self.state.borrow_mut();
        let entry = st.sessions.entry(&session.id);
        let held = |seq: u64| entry.messages.binary_search_by_key(&seq, |m| m.seq).is_ok();
        if let Some(m) = put.iter().find(|m| held(m.seq)) {
            return Err(Error::seq_taken(&session.id, m.seq));
        }
        entry.messages.retain(|m| !delete.contains(&m.seq));
        for m in put {
            let i = entry.messages.partition_point(|x| x.seq < m.seq);
            entry.messages.insert(i, m.clone());
        }
        entry.session = Some(session.clone());
        Ok(())
    }

    async fn put_run(&self, run: &Run) -> Result<()> {
        let mut st = self.state.borrow_mut();
        upsert(&mut st.sessions.entry(&run.session_id).runs, run, |r| {
            r.id == run.id
        });
        Ok(())
    }

    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>> {
        let st = self.state.borrow();
        Ok(st
            .sessions
            .get(session_id)
            .map(|e| e.runs.clone())
            .unwrap_or_default())
    }

    async fn put_summary(&self, summary: &Summary) -> Result<()> {
        let mut st = self.state.borrow_mut();
        let list = &mut st.sessions.entry(&summary.session_id).summaries;
        upsert(list, summary, |s| s.id == summary.id);
        Ok(())
    }

    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>> {
        let st = self.state.borrow();
        Ok(st
            .sessions
            .get(session_id)
            .map(|e| e.summaries.clone())
            .unwrap_or_default())
    }

    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()> {
        if let Some(entry) = self.state.borrow_mut().sessions.get_mut(session_id) {
            entry.summaries.retain(|s| s.id != summary_id);
        }
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.state.borrow().meta.get(key).cloned())
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        *self.state.borrow_mut().meta.entry(key) = value.to_owned();
        Ok(())
    }
}
