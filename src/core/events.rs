//! Lifecycle events and a small single-threaded emitter. Listeners are called synchronously, in
//! subscription order, after the change they report is durable.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{json, Value};

use crate::core::model::{Message, Run, Session};

/// A change to a store, reported after it is durable. Other contexts (tabs, workers) sharing the
/// storage receive it in the wire form of [`crate::core::peers`] (serde's adjacently tagged form
/// of this enum, written by hand; the tests derive serde's to compare); JavaScript listeners get
/// [`Event::to_json`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(tag = "t", content = "d"))]
pub enum Event {
    SessionCreated(Session),
    SessionUpdated(Session),
    SessionReset(Session),
    SessionDeleted {
        id: String,
    },
    SessionExpired {
        id: String,
    },
    MessageAdded(Message),
    /// A stored message rewritten in place: a streamed reply as it grows, and when it ends.
    MessageUpdated(Message),
    RunUpdated(Run),
    /// The same change, made by another context sharing the storage.
    #[cfg_attr(test, serde(skip))]
    Remote(Box<Event>),
}

impl Event {
    /// Every event name a listener can subscribe to here.
    pub const NAMES: [&'static str; 8] = [
        "session:created",
        "session:updated",
        "session:reset",
        "session:deleted",
        "session:expired",
        "message:added",
        "message:updated",
        "run:updated",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Event::SessionCreated(_) => "session:created",
            Event::SessionUpdated(_) => "session:updated",
            Event::SessionReset(_) => "session:reset",
            Event::SessionDeleted { .. } => "session:deleted",
            Event::SessionExpired { .. } => "session:expired",
            Event::MessageAdded(_) => "message:added",
            Event::MessageUpdated(_) => "message:updated",
            Event::RunUpdated(_) => "run:updated",
            Event::Remote(e) => e.name(),
        }
    }

    pub fn session_id(&self) -> &str {
        match self {
            Event::SessionCreated(s) | Event::SessionUpdated(s) | Event::SessionReset(s) => &s.id,
            Event::SessionDeleted { id } | Event::SessionExpired { id } => id,
            Event::MessageAdded(m) | Event::MessageUpdated(m) => &m.session_id,
            Event::RunUpdated(r) => &r.session_id,
            Event::Remote(e) => e.session_id(),
        }
    }

    /// The payload JavaScript listeners receive: `{ type, sessionId, session? | message? | run? }`,
    /// plus `remote: true` when another tab or worker made the change.
    pub fn to_json(&self) -> Value {
        if let Event::Remote(inner) = self {
            let mut v = inner.to_json();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("remote".to_owned(), Value::Bool(true));
            }
            return v;
        }
        let mut v = json!({ "type": self.name(), "sessionId": self.session_id() });
        // Each payload through its JSON text (the message's by core/record_json.rs): serde_json's
        // `to_value` would be one more serializer per type in the wasm.
        let extra = match self {
            Event::SessionCreated(s) | Event::SessionUpdated(s) | Event::SessionReset(s) => {
                Some(("session", serde_json::to_string(&s.info())))
            }
            Event::MessageAdded(m) | Event::MessageUpdated(m) => {
                Some(("message", Ok(crate::core::record_json::message_json(m))))
            }
            Event::RunUpdated(r) => Some(("run", serde_json::to_string(r))),
            Event::SessionDeleted { .. } | Event::SessionExpired { .. } | Event::Remote(_) => None,
        };
        if let (Some((key, Ok(text))), Some(obj)) = (extra, v.as_object_mut()) {
            if let Ok(payload) = crate::core::json::parse(&text) {
                obj.insert(key.to_owned(), payload);
            }
        }
        v
    }
}

/// An event kind a bus can carry: its names, and the JSON JavaScript listeners receive.
pub trait BusEvent: 'static {
    /// Every name a listener can subscribe to.
    const NAMES: &'static [&'static str];
    fn name(&self) -> &'static str;
    fn to_json(&self) -> Value;
}

impl BusEvent for Event {
    const NAMES: &'static [&'static str] = &Event::NAMES;

    fn name(&self) -> &'static str {
        Event::name(self)
    }

    fn to_json(&self) -> Value {
        Event::to_json(self)
    }
}

pub type Listener<E = Event> = Rc<dyn Fn(&E)>;

/// Subscriptions by event name. Cloning the list before dispatch lets a listener unsubscribe (or
/// subscribe) while an event is being delivered.
pub struct EventBus<E: BusEvent = Event> {
    listeners: RefCell<Vec<(u64, &'static str, Listener<E>)>>,
    next_id: Cell<u64>,
}

impl<E: BusEvent> Default for EventBus<E> {
    fn default() -> Self {
        EventBus {
            listeners: RefCell::new(Vec::new()),
            next_id: Cell::new(0),
        }
    }
}

impl<E: BusEvent> EventBus<E> {
    /// Returns `None` for an unknown event name.
    pub fn on(&self, name: &str, listener: Listener<E>) -> Option<u64> {
        let name = *E::NAMES.iter().find(|n| **n == name)?;
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        self.listeners.borrow_mut().push((id, name, listener));
        Some(id)
    }

    pub fn off(&self, id: u64) -> bool {
        let mut ls = self.listeners.borrow_mut();
        let before = ls.len();
        ls.retain(|(i, _, _)| *i != id);
        ls.len() != before
    }

    pub fn emit(&self, event: &E) {
        let name = event.name();
        let targets: Vec<Listener<E>> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(_, n, _)| *n == name)
            .map(|(_, _, l)| l.clone())
            .collect();
        for l in targets {
            l(event);
        }
    }

    pub fn listener_count(&self) -> usize {
        self.listeners.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_get_their_events_and_can_unsubscribe_while_dispatching() {
        let bus = Rc::new(EventBus::<Event>::default());
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s2 = seen.clone();
        let id = bus
            .on(
                "session:deleted",
                Rc::new(move |e| s2.borrow_mut().push(e.session_id().to_owned())),
            )
            .unwrap();
        let b2 = bus.clone();
        let once_id = Rc::new(Cell::new(0));
        let once_id2 = once_id.clone();
        once_id.set(
            bus.on(
                "session:deleted",
                Rc::new(move |_| {
                    b2.off(once_id2.get());
                }),
            )
            .unwrap(),
        );
        bus.emit(&Event::SessionDeleted { id: "a".into() });
        bus.emit(&Event::SessionExpired { id: "x".into() });
        assert_eq!(bus.listener_count(), 1);
        assert!(bus.off(id));
        bus.emit(&Event::SessionDeleted { id: "b".into() });
        assert_eq!(*seen.borrow(), vec!["a".to_owned()]);
    }

    /// One event of every kind. The match below has no wildcard, so a new variant does not
    /// compile until it is sampled here too.
    fn one_of_each() -> Vec<Event> {
        let s = Session::new("s1".into(), 1.0);
        let m: Message = serde_json::from_value(
            json!({ "id": "m", "sessionId": "s1", "seq": 1, "role": "user", "content": "hi", "createdAt": 1.0 }),
        )
        .expect("a minimal message");
        let r: Run = serde_json::from_value(
            json!({ "id": "r", "sessionId": "s1", "status": "running", "createdAt": 1.0 }),
        )
        .expect("a minimal run");
        let all = vec![
            Event::SessionCreated(s.clone()),
            Event::SessionUpdated(s.clone()),
            Event::SessionReset(s),
            Event::SessionDeleted { id: "s1".into() },
            Event::SessionExpired { id: "s1".into() },
            Event::MessageAdded(m.clone()),
            Event::MessageUpdated(m),
            Event::RunUpdated(r),
        ];
        for e in &all {
            match e {
                Event::SessionCreated(_)
                | Event::SessionUpdated(_)
                | Event::SessionReset(_)
                | Event::SessionDeleted { .. }
                | Event::SessionExpired { .. }
                | Event::MessageAdded(_)
                | Event::MessageUpdated(_)
                | Event::RunUpdated(_)
                | Event::Remote(_) => {}
            }
        }
        all
    }

    #[test]
    fn names_lists_exactly_the_names_events_carry() {
        let carried: std::collections::BTreeSet<&str> =
            one_of_each().iter().map(Event::name).collect();
        let listed: std::collections::BTreeSet<&str> = Event::NAMES.iter().copied().collect();
        assert_eq!(carried, listed);
        assert_eq!(listed.len(), Event::NAMES.len(), "a name is listed twice");
    }

    #[test]
    fn unknown_event_names_are_refused() {
        let bus = EventBus::<Event>::default();
        assert!(bus.on("session:nope", Rc::new(|_| {})).is_none());
    }

    #[test]
    fn payload_names_the_session_and_hides_internals() {
        let s = Session::new("s1".into(), 1.0);
        let v = Event::SessionCreated(s).to_json();
        assert_eq!(v["type"], "session:created");
        assert_eq!(v["sessionId"], "s1");
        assert!(v["session"].get("nextSeq").is_none());
    }
}
