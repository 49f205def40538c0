//! The in-memory backend: everything lives in this instance and is gone with it. The reference
//! the other backends are tested against.

use std::cell::RefCell;
use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{MessageQuery, Store};
use crate::core::error::{Error, Result};
use crate::core::model::{Message, Run, Session, Summary};

#[derive(Default)]
struct MemoryState {
    sessions: BTreeMap<String, Session>,
    messages: BTreeMap<String, BTreeMap<u64, Message>>,
    /// Runs by session, in creation order (run id → position kept by a linear scan: runs are few).
    runs: BTreeMap<String, Vec<Run>>,
    summaries: BTreeMap<String, Vec<Summary>>,
    meta: BTreeMap<String, String>,
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
        Ok(self.state.borrow().sessions.get(id).cloned())
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        self.state
            .borrow_mut()
            .sessions
            .insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn list_sessions(&self) -> Result<Vec<Session>> {
        Ok(self.state.borrow().sessions.values().cloned().collect())
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        let mut st = self.state.borrow_mut();
        st.sessions.remove(id);
        st.messages.remove(id);
        st.runs.remove(id);
        st.summaries.remove(id);
        Ok(())
    }

    async fn put_message(&self, session: &Session, message: &Message) -> Result<()> {
        let mut st = self.state.borrow_mut();
        let slots = st.messages.entry(session.id.clone()).or_default();
        if slots.get(&message.seq).is_some_and(|m| m.id != message.id) {
            return Err(Error::seq_taken(&session.id, message.seq));
        }
        slots.insert(message.seq, message.clone());
        st.sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>> {
        let st = self.state.borrow();
        let Some(all) = st.messages.get(session_id) else {
            return Ok(Vec::new());
        };
        let lo = query.from_seq.unwrap_or(0);
        let hi = query.before_seq.unwrap_or(u64::MAX);
        if lo >= hi {
            return Ok(Vec::new());
        }
        let range = all.range(lo..hi);
        let mut out: Vec<Message> = match query.limit {
            // Walk from the newest end so a small window of a long history costs only the window.
            Some(limit) => range.rev().take(limit).map(|(_, m)| m.clone()).collect(),
            None => range.map(|(_, m)| m.clone()).collect(),
        };
        if query.limit.is_some() {
            out.reverse();
        }
        Ok(out)
    }

    async fn clear_messages(&self, session: &Session) -> Result<()> {
        let mut st = self.state.borrow_mut();
        st.messages.remove(&session.id);
        st.summaries.remove(&session.id);
        st.sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn put_run(&self, run: &Run) -> Result<()> {
        let mut st = self.state.borrow_mut();
        upsert(
            st.runs.entry(run.session_id.clone()).or_default(),
            run,
            |r| r.id == run.id,
        );
        Ok(())
    }

    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>> {
        Ok(self
            .state
            .borrow()
            .runs
            .get(session_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn put_summary(&self, summary: &Summary) -> Result<()> {
        let mut st = self.state.borrow_mut();
        let list = st.summaries.entry(summary.session_id.clone()).or_default();
        upsert(list, summary, |s| s.id == summary.id);
        Ok(())
    }

    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>> {
        Ok(self
            .state
            .borrow()
            .summaries
            .get(session_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()> {
        if let Some(list) = self.state.borrow_mut().summaries.get_mut(session_id) {
            list.retain(|s| s.id != summary_id);
        }
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.state.borrow().meta.get(key).cloned())
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.state
            .borrow_mut()
            .meta
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}
