//! The manager's in-memory copy of recently used sessions: least recently used first out, bounded
//! by count and by idle time. Eviction never loses data: the store still has the session.

use crate::core::model::{Millis, Session};

struct CacheEntry {
    session: Session,
    last_access: Millis,
    tick: u64,
}

/// LRU by access tick. The least recently used entry is found by a scan, and only when the cache
/// is over its bound: a second ordered index (a `BTreeMap` of ticks) cost ~10 KB of wasm for what
/// is, at the default bound of 1,000 sessions, a microsecond. The entries are a `Vec` in id order
/// (binary search), not a `HashMap`: the module has no hash table then (hashbrown and SipHash
/// were ~7 KB of wasm).
#[derive(Default)]
pub(super) struct Cache {
    entries: Vec<CacheEntry>,
    tick: u64,
}

impl Cache {
    fn find(&self, id: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| e.session.id.as_str().cmp(id))
    }

    /// The cached session, made most recently used; `None` (and dropped) once idle past `ttl`.
    pub(super) fn get(&mut self, id: &str, now: Millis, ttl: f64) -> Option<Session> {
        let i = self.find(id).ok()?;
        if now - self.entries[i].last_access > ttl {
            self.entries.remove(i);
            return None;
        }
        self.tick += 1;
        let entry = &mut self.entries[i];
        entry.tick = self.tick;
        entry.last_access = now;
        Some(entry.session.clone())
    }

    /// The cached session, without touching its recency.
    pub(super) fn peek(&self, id: &str) -> Option<&Session> {
        self.find(id).ok().map(|i| &self.entries[i].session)
    }

    pub(super) fn put(&mut self, session: Session, now: Millis, max: usize) {
        self.tick += 1;
        let entry = CacheEntry {
            session,
            last_access: now,
            tick: self.tick,
        };
        match self.find(&entry.session.id) {
            Ok(i) => self.entries[i] = entry,
            Err(i) => self.entries.insert(i, entry),
        }
        while self.entries.len() > max {
            let Some(victim) = self.oldest() else {
                break;
            };
            self.entries.remove(victim);
        }
    }

    /// The least recently used entry's index.
    fn oldest(&self) -> Option<usize> {
        (0..self.entries.len()).min_by_key(|&i| self.entries[i].tick)
    }

    pub(super) fn evict_idle(&mut self, now: Millis, ttl: f64) {
        self.entries.retain(|e| now - e.last_access <= ttl);
    }

    pub(super) fn remove(&mut self, id: &str) {
        if let Ok(i) = self.find(id) {
            self.entries.remove(i);
        }
    }

    /// The cached ids, least recently used first.
    pub(super) fn ids(&self) -> Vec<String> {
        let mut by_tick: Vec<(u64, &String)> = self
            .entries
            .iter()
            .map(|e| (e.tick, &e.session.id))
            .collect();
        crate::core::sort::sort_by(&mut by_tick, |a, b| a.0.cmp(&b.0));
        by_tick.into_iter().map(|(_, id)| id.clone()).collect()
    }
}
