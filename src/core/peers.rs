//! Other execution contexts — browser tabs, workers — that share a store's storage, and the wire
//! form of the events they tell each other about.
//!
//! A store over IndexedDB or localStorage is not alone: another tab may open the same database.
//! [`Peers`](crate::core::io::Peers) is what the manager needs from the platform to stay correct then: a lock per
//! session that every context honours (Web Locks), and a way to tell the others about a change
//! once it is durable (BroadcastChannel). A store over memory has no peers.

use serde_json::Value;

use crate::core::events::Event;
use crate::core::record_json;
use crate::core::record_read::FromValue;

/// The wire form of an event between contexts: serde's adjacently tagged
/// `{"t": variant, "d": payload}` (what earlier versions wrote through serde, byte for byte:
/// tested), the records written by `record_json`.
pub fn encode(event: &Event) -> Option<String> {
    let (tag, payload) = match event {
        Event::Remote(_) => return None,
        Event::MessageAdded(m) => ("MessageAdded", record_json::message_json(m)),
        Event::MessageUpdated(m) => ("MessageUpdated", record_json::message_json(m)),
        Event::SessionUpdated(s) => ("SessionUpdated", record_json::session_json(s)),
        Event::SessionCreated(s) => ("SessionCreated", record_json::session_json(s)),
        Event::SessionReset(s) => ("SessionReset", record_json::session_json(s)),
        Event::SessionDeleted { id } => ("SessionDeleted", id_json(id)),
        Event::SessionExpired { id } => ("SessionExpired", id_json(id)),
        Event::RunUpdated(r) => ("RunUpdated", serde_json::to_string(r).ok()?),
    };
    let mut out = String::with_capacity(payload.len() + tag.len() + 14);
    out.push_str("{\"t\":\"");
    out.push_str(tag);
    out.push_str("\",\"d\":");
    out.push_str(&payload);
    out.push('}');
    Some(out)
}

/// `{"id": id}`.
fn id_json(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 10);
    out.push_str("{\"id\":");
    record_json::string(&mut out, id);
    out.push('}');
    out
}

/// Several encoded events as one message (one post instead of one per event): the first event's
/// own object with the others, in order, under `"more"`. A reader that knows only the single
/// form (an older version of this library in another tab) reads the first event and ignores the
/// key; [`decode`] reads them all.
pub fn batch(texts: Vec<String>) -> Option<String> {
    let mut out = String::new();
    let mut n = 0;
    for text in texts {
        match n {
            0 => out = text,
            _ => {
                if n == 1 {
                    // The first object reopened: its closing brace goes at the very end.
                    out.pop();
                    out.push_str(",\"more\":[");
                } else {
                    out.push(',');
                }
                out.push_str(&text);
            }
        }
        n += 1;
    }
    match n {
        0 => None,
        1 => Some(out),
        _ => {
            out.push_str("]}");
            Some(out)
        }
    }
}

/// Reads what another context sent: one event, or a [`batch`], in order. Whatever is not an
/// event this version knows (another version's, garbage) is left out.
///
/// Read by hand: the shared `Value` parser, then the payload type's own reader
/// (core/record_read.rs).
pub fn decode(text: &str) -> Vec<Event> {
    let Ok(wire) = crate::core::json::parse(text) else {
        return Vec::new();
    };
    let mut events: Vec<Event> = one(&wire).into_iter().collect();
    if let Some(more) = wire.get("more").and_then(Value::as_array) {
        events.extend(more.iter().filter_map(one));
    }
    events
}

/// One event's `{"t", "d"}` object.
fn one(wire: &Value) -> Option<Event> {
    fn payload<T: FromValue>(d: &Value) -> Option<T> {
        T::from_value(d).ok()
    }
    fn id(d: &Value) -> Option<String> {
        d.get("id")?.as_str().map(str::to_owned)
    }
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
    use crate::core::model::{Message, Session};

    fn message(seq: u64, content: &str) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": format!("m{seq}"), "sessionId": "a", "seq": seq, "role": "user",
            "content": content, "createdAt": 1.0, "metadata": { "k": [1, "\"x\""] }
        }))
        .unwrap()
    }

    #[test]
    fn events_cross_the_wire_whole_and_garbage_is_ignored() {
        let mut s = Session::new("a".into(), 1.0);
        s.next_seq = 7;
        let e = Event::SessionUpdated(s);
        let text = encode(&e).unwrap();
        assert_eq!(decode(&text), std::slice::from_ref(&e));
        assert_eq!(encode(&Event::Remote(Box::new(e))), None);
        assert_eq!(decode("{\"t\":\"Nope\"}"), []);
        assert_eq!(decode("not json"), []);
        assert_eq!(decode("[1,2]"), []);
        assert_eq!(decode("{\"t\":\"SessionUpdated\"}"), []);
        assert_eq!(decode("{\"t\":\"SessionDeleted\",\"d\":{\"nope\":1}}"), []);
    }

    #[test]
    fn every_event_kind_round_trips_in_either_key_order_in_serdes_own_form() {
        let mut s = Session::new("a".into(), 1.0);
        s.next_seq = 3;
        s.title = Some("t\n\"".into());
        let events = [
            Event::SessionCreated(s.clone()),
            Event::SessionUpdated(s.clone()),
            Event::SessionReset(s.clone()),
            Event::SessionDeleted { id: "a".into() },
            Event::SessionExpired { id: "b".into() },
            Event::MessageAdded(message(2, "hi \u{1} \\ \"q\"")),
            Event::MessageUpdated(message(3, "")),
            Event::RunUpdated(
                serde_json::from_value(serde_json::json!({
                    "id": "r", "sessionId": "a", "status": "running", "createdAt": 1.0
                }))
                .unwrap(),
            ),
        ];
        for e in events {
            let text = encode(&e).unwrap();
            // Byte for byte what earlier versions (serde) wrote: they read it the same way.
            assert_eq!(text, serde_json::to_string(&e).unwrap());
            assert_eq!(decode(&text), std::slice::from_ref(&e), "{text}");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let swapped = format!("{{\"d\":{},\"t\":{}}}", v["d"], v["t"]);
            assert_eq!(decode(&swapped), [e], "{swapped}");
        }
    }

    #[test]
    fn a_batch_is_every_event_in_order_and_its_first_to_a_reader_of_one() {
        let mut s = Session::new("a".into(), 1.0);
        s.next_seq = 1;
        let events = vec![
            Event::MessageAdded(message(0, "one")),
            Event::SessionUpdated(s),
            Event::SessionDeleted { id: "z".into() },
        ];
        let texts: Vec<String> = events.iter().filter_map(encode).collect();
        let one_text = batch(vec![texts[0].clone()]).unwrap();
        assert_eq!(
            one_text, texts[0],
            "a batch of one is that event's own form"
        );
        assert_eq!(batch(Vec::new()), None);
        let text = batch(texts).unwrap();
        assert_eq!(decode(&text), events);
        // An older version reads the single form only: `t` and `d` of the object, nothing else.
        let wire: Value = crate::core::json::from_str(&text).unwrap();
        assert_eq!(one(&wire), Some(events[0].clone()));
        // A batch holding an event this version does not know keeps the others.
        let mixed = batch(vec![
            "{\"t\":\"FromTheFuture\",\"d\":{}}".to_owned(),
            encode(&events[2]).unwrap(),
        ])
        .unwrap();
        assert_eq!(decode(&mixed), [events[2].clone()]);
    }
}
