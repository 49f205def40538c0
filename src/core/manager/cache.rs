//! The manager's in-memory copy of recently used sessions: least recently used first out, bounded
//! by count and by idle time. Eviction never loses data: the store still has the session.

use std::collections::HashMap;

use crate::core::model::{Millis, Session};

struct CacheEntry {
    session: Session,
    last_access: Millis,
    tick: u64,
}

/// LRU by access tick. The least recently used entry is found by a scan, and only when the cache
/// is over its bound: a second ordered index (a `BTreeMap` of ticks) cost ~10 KB of wasm for what
/// is, at the default bound of 1,000 sessions, a microsecond.
#[derive(Default)]
pub(super) struct Cache {
    entries: HashMap<String, CacheEntry>,
    tick: u64,
}

impl Cache {
    /// The cached session, made most recently used; `None` (and dropped) once idle past `ttl`.
    pub(super) fn get(&mut self, id: &str, now: Millis, ttl: f64) -> Option<Session> {
        if now - self.entries.get(id)?.last_access > ttl {
            self.remove(id);
            return None;
        }
        self.tick += 1;
        let entry = self.entries.get_mut(id)?;
        entry.tick = self.tick;
        entry.last_access = now;
        Some(entry.session.clone())
    }

    /// The cached session, without touching its recency.
    pub(super) fn peek(&self, id: &str) -> Option<&Session> {
        self.entries.get(id).map(|e| &e.session)
    }

    pub(super) fn put(&mut self, session: Session, now: Millis, max: usize) {
        self.tick += 1;
        let entry = CacheEntry {
            session,
            last_access: now,
            tick: self.tick,
        };
        self.entries.insert(entry.session.id.clone(), entry);
        while self.entries.len() > max {
            let Some(victim) = self.oldest() else {
                break;
            };
            self.entries.remove(&victim);
        }
    }

    /// The least recently used entry's id.
    fn oldest(&self) -> Option<String> {
        self.entries
            .iter()
            .min_by_key(|(_, e)| e.tick)
            .map(|(id, _)| id.clone())
    }

    pub(super) fn evict_idle(&mut self, now: Millis, ttl: f64) {
        self.entries.retain(|_, e| now - e.last_access <= ttl);
    }

    pub(super) fn remove(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// The cached ids, least recently used first.
    pub(super) fn ids(&self) -> Vec<String> {
        let mut by_tick: Vec<(u64, &String)> =
            self.entries.iter().map(|(id, e)| (e.tick, id)).collect();
        crate::core::sort::sort_by(&mut by_tick, |a, b| a.0.cmp(&b.0));
        by_tick.into_iter().map(|(_, id)| id.clone()).collect()
    }
}
