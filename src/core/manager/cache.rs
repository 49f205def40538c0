//! The manager's in-memory copy of recently used sessions: least recently used first out, bounded
//! by count and by idle time. Eviction never loses data: the store still has the session.

use std::collections::{BTreeMap, HashMap};

use crate::core::model::{Millis, Session};

struct CacheEntry {
    session: Session,
    last_access: Millis,
    tick: u64,
}

/// LRU by access tick; idle entries are the oldest ticks, so both evictions pop from the front.
#[derive(Default)]
pub(super) struct Cache {
    entries: HashMap<String, CacheEntry>,
    by_tick: BTreeMap<u64, String>,
    tick: u64,
}

impl Cache {
    /// The cached session, made most recently used; `None` (and dropped) once idle past `ttl`.
    pub(super) fn get(&mut self, id: &str, now: Millis, ttl: f64) -> Option<Session> {
        if now - self.entries.get(id)?.last_access > ttl {
            self.remove(id);
            return None;
        }
        let entry = self.entries.get_mut(id)?;
        self.tick += 1;
        self.by_tick.remove(&entry.tick);
        self.by_tick.insert(self.tick, id.to_owned());
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
        let tick = self.tick;
        let id = session.id.clone();
        if let Some(old) = self.entries.insert(
            id.clone(),
            CacheEntry {
                session,
                last_access: now,
                tick,
            },
        ) {
            self.by_tick.remove(&old.tick);
        }
        self.by_tick.insert(tick, id);
        while self.entries.len() > max {
            let Some((_, victim)) = self.by_tick.pop_first() else {
                break;
            };
            self.entries.remove(&victim);
        }
    }

    pub(super) fn evict_idle(&mut self, now: Millis, ttl: f64) {
        while let Some((_, id)) = self.by_tick.first_key_value() {
            let idle = self
                .entries
                .get(id)
                .is_none_or(|e| now - e.last_access > ttl);
            if !idle {
                break;
            }
            let id = id.clone();
            self.remove(&id);
        }
    }

    pub(super) fn remove(&mut self, id: &str) {
        if let Some(e) = self.entries.remove(id) {
            self.by_tick.remove(&e.tick);
        }
    }

    pub(super) fn ids(&self) -> Vec<String> {
        self.by_tick.values().cloned().collect()
    }
}
