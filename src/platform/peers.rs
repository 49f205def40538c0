//! Other tabs and workers over the same storage: Web Locks for one writer per session,
//! BroadcastChannel to hear of their changes. Both are feature-detected on `globalThis`; where
//! Web Locks are missing the manager falls back on the store's seq-slot check (see
//! `core::peers`), and where BroadcastChannel is missing other contexts simply are not told.

use std::cell::RefCell;
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

pub struct BrowserPeers {
    /// Names this storage: the lock names and the channel name start with it.
    scope: String,
    /// `navigator.locks`, when the platform has Web Locks.
    locks: Option<JsValue>,
    channel: Option<Channel>,
}

impl Drop for BrowserPeers {
    fn drop(&mut self) {
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
        if let (Some(event), Some(m)) = (text.as_deref().and_then(peers::decode), manager.upgrade())
        {
            m.apply_remote(event);
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
    manager.set_peers(Rc::new(BrowserPeers {
        scope,
        locks,
        channel,
    }));
}

/// Releases a Web Lock when dropped, by settling the promise its callback returned.
struct Held(Function);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

#[async_trait(?Send)]
impl Peers for BrowserPeers {
    async fn lock(&self, session_id: &str) -> Option<PeerLock> {
        let locks = self.locks.as_ref()?;
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
        rx.await.ok().flatten().map(|f| PeerLock(Box::new(Held(f))))
    }

    fn publish(&self, event: &Event) {
        let (Some((channel, _)), Some(text)) = (&self.channel, peers::encode(event)) else {
            return;
        };
        if let Some(post) = function_property(channel, "postMessage") {
            let _ = post.call1(channel, &JsValue::from_str(&text));
        }
    }
}
