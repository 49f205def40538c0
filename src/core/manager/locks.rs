//! One writer per session at a time: an async mutex per session id within this context, and the
//! platform's cross-context lock (see [`Peers`](crate::core::io::Peers)) on top when there is one.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use futures_util::lock::{Mutex, OwnedMutexGuard};

use crate::core::io::PeerLock;

/// One async mutex per session id, created on demand and dropped when nobody holds or awaits it
/// (a short list, scanned: only the sessions being written right now are in it).
#[derive(Default)]
pub(super) struct KeyedLocks {
    locks: RefCell<Vec<(String, Arc<Mutex<()>>)>>,
    /// Ids whose holder here also holds the other contexts' lock: while held, what this context
    /// caches of the session is what storage holds (nobody else can write it).
    exclusive: RefCell<Vec<String>>,
}

impl KeyedLocks {
    /// The mutex of `id`, created if nobody holds or awaits it. Locking it is the caller's
    /// `await` (not a method here), so the wait stays one state machine with the caller's.
    pub(super) fn mutex(&self, id: &str) -> Arc<Mutex<()>> {
        let mut locks = self.locks.borrow_mut();
        match locks.iter().find(|(k, _)| k == id) {
            Some((_, m)) => m.clone(),
            None => {
                let m = Arc::new(Mutex::new(()));
                locks.push((id.to_owned(), m.clone()));
                m
            }
        }
    }

    pub(super) fn set_exclusive(&self, id: &str) {
        self.exclusive.borrow_mut().push(id.to_owned());
    }

    pub(super) fn is_exclusive(&self, id: &str) -> bool {
        self.exclusive.borrow().iter().any(|x| x == id)
    }

    /// Whether no lock is held or awaited (every entry is dropped with its last user).
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.locks.borrow().is_empty()
    }
}

/// This context's hold on one session id.
pub(super) struct KeyGuard {
    _guard: OwnedMutexGuard<()>,
    id: String,
    locks: Rc<KeyedLocks>,
}

impl KeyGuard {
    pub(super) fn new(guard: OwnedMutexGuard<()>, id: &str, locks: &Rc<KeyedLocks>) -> Self {
        KeyGuard {
            _guard: guard,
            id: id.to_owned(),
            locks: locks.clone(),
        }
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        self.locks.exclusive.borrow_mut().retain(|x| x != &self.id);
        // 2 = the list's own handle + the one inside our guard: nobody else waits.
        self.locks
            .locks
            .borrow_mut()
            .retain(|(k, m)| k != &self.id || Arc::strong_count(m) > 2);
    }
}

/// Held while a session is being written; dropping it lets the next writer in.
pub struct SessionGuard {
    // Fields drop in order: the other contexts' lock is released first, then this context's.
    pub(super) _peer: Option<PeerLock>,
    pub(super) _key: KeyGuard,
}
