//! Other execution contexts — browser tabs, workers — that share a store's storage, and the wire
//! form of the events they tell each other about.
//!
//! A store over IndexedDB or localStorage is not alone: another tab may open the same database.
//! [`Peers`](crate::core::io::Peers) is what the manager needs from the platform to stay correct then: a lock per
//! session that every context honours (Web Locks), and a way to tell the others about a change
//! once it is durable (BroadcastChannel). A store over memory has no peers.

use serde_json::Value;

use crate::core::events::Event;
use crate::core::record_read::FromValue;

/// The wire form of an event between contexts.
pub fn encode(event: &Event) -> Option<String> {
    match event {
        Event::Remote(_) => None,
        e => serde_json::to_string(e).ok(),
    }
}

/// Reads an event another context sent; anything else (another version, garbage) is `None`.
///
/// The wire form is serde's adjacently tagged `{"t": variant, "d": payload}`, read by hand: the
/// shared `Value` parser, then the payload type's own reader (core/record_read.rs).
pub fn decode(text: &str) -> Option<Event> {
    fn payload<T: FromValue>(d: &Value) -> Option<T> {
        T::from_value(d).ok()
    }
    fn id(d: &Value) -> Option<String> {
        d.get("id")?.as_str().map(str::to_owned)
    }
    let wire: Value = crate::core::json::from_str(text).ok()?;
    let d = wire.get("d")?;
    Some(match wire.get("t")?.as_str()? {
        "SessionCreated" => Event::SessionCreated(payload(d)?),
        "SessionUpdated" => Event::SessionUpdated(payload(d)?),
        "SessionReset" => Event::SessionReset(payload(d)?),
        "SessionDeleted" => Event::SessionDeleted { id: id(d)? },
        "SessionExpired" => Event::SessionExpired { id: id(d)? },
        "MessageAdded" => Event::MessageAdded(payload(d)?),
        "MessageUpdated" => Event::MessageUpdated(payload(d)?),
        "RunUpdated" => Event::RunUpdated(payload(d)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Session;

    #[test]
    fn events_cross_the_wire_whole_and_garbage_is_ignored() {
        let mut s = Session::new("a".into(), 1.0);
        s.next_seq = 7;
        let e = Event::SessionUpdated(s);
        let text = encode(&e).unwrap();
        assert_eq!(decode(&text), Some(e.clone()));
        assert_eq!(encode(&Event::Remote(Box::new(e))), None);
        assert_eq!(decode("{\"t\":\"Nope\"}"), None);
        assert_eq!(decode("not json"), None);
        assert_eq!(decode("{\"t\":\"SessionUpdated\"}"), None);
        assert_eq!(
            decode("{\"t\":\"SessionDeleted\",\"d\":{\"nope\":1}}"),
            None
        );
    }

    #[test]
    fn every_event_kind_round_trips_in_either_key_order() {
        let mut s = Session::new("a".into(), 1.0);
        s.next_seq = 3;
        let events = [
            Event::SessionCreated(s.clone()),
            Event::SessionReset(s.clone()),
            Event::SessionDeleted { id: "a".into() },
            Event::SessionExpired { id: "b".into() },
        ];
        for e in events {
            let text = encode(&e).unwrap();
            assert_eq!(decode(&text), Some(e.clone()), "{text}");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let swapped = format!("{{\"d\":{},\"t\":{}}}", v["d"], v["t"]);
            assert_eq!(decode(&swapped), Some(e), "{swapped}");
        }
    }
}
