//! Other tabs and workers over the same storage: Web Locks for one writer per session,
//! BroadcastChannel to hear of their changes. Both are feature-detected on `globalThis`; where
//! Web Locks are missing the manager falls back on the store's seq-slot check (see
//! `core::peers`), and where BroadcastChannel is missing other contexts simply are not told.
//!
//! A released Web Lock is kept for this context until the current task ends (a `MessageChannel`
//! message, which background tabs do not throttle the way they throttle timers), for at most
//! [`MAX_REUSES`] writes in a row: consecutive appends from one tab (an `await` loop, several in
//! flight) take the lock once instead of once each, while another tab waiting for it waits at
//! most that many writes longer. A lock kept that way is `unbroken`: nobody else can have written
//! the session meanwhile. The task's change notices go out at its end too, in order: posting them
//! (the costliest part of an append after the commit) then overlaps the next write's commit.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use async_trait::async_trait;
use futures_channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::wake::function_property;
use crate::core::events::Event;
use crate::core::io::{PeerLock, Peers};
use crate::core::manager::SessionManager;
use crate::core::peers;

/// A `BroadcastChannel` with the listener that must live as long as it.
type Channel = (JsValue, Closure<dyn FnMut(JsValue)>);

/// Consecutive writes one Web Lock may serve before it is really released.
pub const MAX_REUSES: u32 = 8;

pub struct BrowserPeers {
    /// Names this storage: the lock names and the channel name start with it.
    scope: String,
    /// `navigator.locks`, when the platform has Web Locks.
    locks: Option<JsValue>,
    channel: Option<Channel>,
    leases: Rc<Leases>,
}

/// What waits for the end of the current task: the Web Locks this context keeps for a moment
/// after a write (for its next one), and the change notices for the other contexts (posted
/// then, so that their cost overlaps the next write's commit instead of delaying it).
#[derive(Default)]
struct Leases {
    idle: RefCell<Vec<Idle>>,
    /// Notices not yet posted, in order, one list per post: an append's `message:added` and its
    /// `session:updated` share a post; every other notice has its own, so that a reader of the
    /// single form (an older version of this library in another tab, which reads only a post's
    /// first event) still hears every change but an append's new session record, whose news its
    /// `message:added` already gives (it drops that session's cached record).
    notices: RefCell<Vec<Vec<String>>>,
    /// The session of the last notice, when it was a message's: its record's notice may join it.
    pairs_with: RefCell<Option<String>>,
    /// The `BroadcastChannel` the notices go to.
    broadcast: RefCell<Option<JsValue>>,
    /// An end-of-task message is on its way.
    posted: Cell<bool>,
    /// Posts the end-of-task message: a `MessageChannel`'s port, with the listener on the other
    /// port. `None`: no channel here; a lock is released and a notice posted at once.
    wake: RefCell<Option<Wake>>,
}

/// The port this context posts to, the port that hears it, and the latter's listener.
type Wake = (JsValue, JsValue, Closure<dyn FnMut(JsValue)>);

struct Idle {
    session: String,
    release: Release,
    uses: u32,
}

impl Leases {
    fn new() -> Rc<Self> {
        let leases = Rc::new(Leases::default());
        let weak = Rc::downgrade(&leases);
        let listener = Closure::<dyn FnMut(JsValue)>::new(move |_ev: JsValue| {
            if let Some(leases) = weak.upgrade() {
                leases.posted.set(false);
                leases.flush();
                // Every idle lease was kept during a task that has ended. Dropping an `Idle`
                // releases its lock.
                let expired = std::mem::take(&mut *leases.idle.borrow_mut());
                drop(expired);
            }
        });
        let channel = global("MessageChannel")
            .and_then(|c| c.dyn_into::<Function>().ok())
            .and_then(|c| Reflect::construct(&c, &js_sys::Array::new()).ok());
        let ports = channel.and_then(|c| {
            let a = Reflect::get(&c, &JsValue::from_str("port1")).ok()?;
            let b = Reflect::get(&c, &JsValue::from_str("port2")).ok()?;
            Reflect::set(&a, &JsValue::from_str("onmessage"), listener.as_ref()).ok()?;
            // Neither port may keep a process alive (Node, Deno).
            for port in [&a, &b] {
                if let Some(unref) = function_property(port, "unref") {
                    let _ = unref.call0(port);
                }
            }
            Some((a, b))
        });
        if let Some((a, b)) = ports {
            *leases.wake.borrow_mut() = Some((a, b, listener));
        }
        leases
    }

    /// Asks for the end-of-task message (once per task); `false` when it cannot come.
    fn wake_later(&self) -> bool {
        if self.posted.get() {
            return true;
        }
        let wake = self.wake.borrow();
        let Some((_, port, _)) = wake.as_ref() else {
            return false;
        };
        let posted = function_property(port, "postMessage")
            .is_some_and(|post| post.call1(port, &JsValue::NULL).is_ok());
        self.posted.set(posted);
        posted
    }

    /// Posts the notices waiting, in order (an append's two notices in one post: each post is a
    /// trip to the browser's other processes).
    fn flush(&self) {
        let posts = std::mem::take(&mut *self.notices.borrow_mut());
        self.pairs_with.borrow_mut().take();
        let broadcast = self.broadcast.borrow();
        let Some(channel) = broadcast.as_ref() else {
            return;
        };
        let Some(post) = function_property(channel, "postMessage") else {
            return;
        };
        for text in posts.into_iter().filter_map(peers::batch) {
            let _ = post.call1(channel, &JsValue::from_str(&text));
        }
    }

    /// Tells the other contexts at the end of this task (at once when that cannot be arranged).
    fn notify(&self, text: String, event: &Event) {
        let joins = match event {
            Event::SessionUpdated(s) => self.pairs_with.borrow().as_deref() == Some(s.id.as_str()),
            _ => false,
        };
        *self.pairs_with.borrow_mut() = match event {
            Event::MessageAdded(m) | Event::MessageUpdated(m) => Some(m.session_id.clone()),
            _ => None,
        };
        let mut posts = self.notices.borrow_mut();
        match posts.last_mut() {
            Some(last) if joins => last.push(text),
            _ => posts.push(vec![text]),
        }
        drop(posts);
        if !self.wake_later() {
            self.flush();
        }
    }

    /// Takes this context's idle lease on `session`, if it keeps one.
    fn take(&self, session: &str) -> Option<Idle> {
        let mut idle = self.idle.borrow_mut();
        let at = idle.iter().position(|i| i.session == session)?;
        Some(idle.swap_remove(at))
    }

    /// Keeps a lock just released by this context until the current task ends; gives it back
    /// when it cannot (dropping it releases it).
    fn keep(
        &self,
        session: String,
        release: Release,
        uses: u32,
    ) -> std::result::Result<(), Release> {
        if !self.wake_later() {
            return Err(release);
        }
        self.idle.borrow_mut().push(Idle {
            session,
            release,
            uses,
        });
        Ok(())
    }
}

impl Drop for BrowserPeers {
    fn drop(&mut self) {
        // Notices still waiting go now; idle leases are released with it.
        self.leases.flush();
        self.leases.idle.borrow_mut().clear();
        if let Some((port, other, _)) = self.leases.wake.borrow_mut().take() {
            for p in [&port, &other] {
                if let Some(close) = function_property(p, "close") {
                    let _ = close.call0(p);
                }
            }
        }
        if let Some((channel, _)) = &self.channel {
            if let Some(close) = function_property(channel, "close") {
                let _ = close.call0(channel);
            }
        }
    }
}

fn global(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn web_locks() -> Option<JsValue> {
    let navigator = global("navigator")?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    function_property(&locks, "request").map(|_| locks)
}

fn open_channel(name: &str, manager: Weak<SessionManager>) -> Option<Channel> {
    let ctor: Function = global("BroadcastChannel")?.dyn_into().ok()?;
    let args = js_sys::Array::of1(&JsValue::from_str(name));
    let channel = Reflect::construct(&ctor, &args).ok()?;
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let text = Reflect::get(&ev, &JsValue::from_str("data"))
            .ok()
            .and_then(|d| d.as_string());
        if let (Some(text), Some(m)) = (text, manager.upgrade()) {
            for event in peers::decode(&text) {
                m.apply_remote(event);
            }
        }
    });
    Reflect::set(
        &channel,
        &JsValue::from_str("onmessage"),
        listener.as_ref().unchecked_ref(),
    )
    .ok()?;
    Some((channel, listener))
}

/// Connects a manager to the other contexts over the storage named `scope` (e.g. the database
/// name). Does nothing where neither Web Locks nor BroadcastChannel exist.
pub fn connect(manager: &Rc<SessionManager>, scope: &str) {
    let scope = format!("agent-sessions:{scope}");
    let locks = web_locks();
    let channel = open_channel(&scope, Rc::downgrade(manager));
    if locks.is_none() && channel.is_none() {
        return;
    }
    let leases = Leases::new();
    *leases.broadcast.borrow_mut() = channel.as_ref().map(|(c, _)| c.clone());
    manager.set_peers(Rc::new(BrowserPeers {
        scope,
        locks,
        channel,
        leases,
    }));
}

/// Releases a Web Lock when dropped, by settling the promise its callback returned.
struct Release(Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

/// A Web Lock as the manager holds it; dropped, it is kept for this context's next write (see
/// the module docs) or released.
struct Held {
    release: Option<Release>,
    session: String,
    uses: u32,
    leases: Weak<Leases>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let (Some(release), Some(leases)) = (self.release.take(), self.leases.upgrade()) else {
            return;
        };
        if self.uses < MAX_REUSES {
            // Released at once when it cannot be kept (the `Err` is dropped).
            let _ = leases.keep(std::mem::take(&mut self.session), release, self.uses + 1);
        }
    }
}

#[async_trait(?Send)]
impl Peers for BrowserPeers {
    async fn lock(&self, session_id: &str) -> Option<PeerLock> {
        let locks = self.locks.as_ref()?;
        if let Some(idle) = self.leases.take(session_id) {
            return Some(PeerLock {
                held: Box::new(Held {
                    release: Some(idle.release),
                    session: idle.session,
                    uses: idle.uses,
                    leases: Rc::downgrade(&self.leases),
                }),
                unbroken: true,
            });
        }
        let request = function_property(locks, "request")?;
        let (tx, rx) = oneshot::channel::<Option<Function>>();
        let tx = Rc::new(RefCell::new(Some(tx)));
        let granted = tx.clone();
        // Called with the lock held; the lock lasts until the returned promise settles.
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            let mut release = None;
            let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
            if let Some(tx) = granted.borrow_mut().take() {
                // If the waiting future is gone, release at once.
                if let Err(Some(f)) = tx.send(release) {
                    let _ = f.call0(&JsValue::UNDEFINED);
                }
            }
            held
        });
        let name = JsValue::from_str(&format!("{}:{}", self.scope, session_id));
        match request.call2(locks, &name, &callback) {
            Ok(p) => {
                // A refused request (e.g. a sandboxed frame) falls back to no cross-context lock.
                if let Some(catch) = function_property(&p, "catch") {
                    let failed = Closure::once_into_js(move |_e: JsValue| {
                        if let Some(tx) = tx.borrow_mut().take() {
                            let _ = tx.send(None);
                        }
                    });
                    let _ = catch.call1(&p, &failed);
                }
            }
            Err(_) => return None,
        }
        let release = rx.await.ok().flatten()?;
        Some(PeerLock {
            held: Box::new(Held {
                release: Some(Release(release)),
                session: session_id.to_owned(),
                uses: 0,
                leases: Rc::downgrade(&self.leases),
            }),
            unbroken: false,
        })
    }

    fn publish(&self, event: &Event) {
        if self.channel.is_none() {
            return;
        }
        if let Some(text) = peers::encode(event) {
            self.leases.notify(text, event);
        }
    }
}
