//! The JSON text of message and session records — a history as `getHistory()` hands it to
//! JavaScript, a message or session record as the stores keep it: byte for byte what
//! `serde_json::to_string` writes (tested below), in one pass over a buffer sized up front, with
//! strings escaped eight bytes at a time.
//!
//! Why not serde_json itself: in this size-optimised module its string escaping costs a call per
//! byte, and a restored history is mostly message text (2,000 messages of ~230 characters were
//! ~60% of `getHistory()` in serde's writer); an append writes a message and its session record.
//! Only the hot, fixed part is written here; free-form JSON (`metadata`, a session's
//! `calibration`) and unusual numbers still go through serde_json.

use std::fmt::Write as _;

use crate::core::model::{Message, MessageStatus, Parent, Session, ToolCall};

/// `serde_json::to_string(messages)`, faster.
pub fn messages_json(messages: &[Message]) -> String {
    let size: usize = messages
        .iter()
        .map(|m| 160 + m.id.len() + m.session_id.len() + m.content.len())
        .sum();
    let mut out = String::with_capacity(size + 2);
    out.push('[');
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        message(&mut out, m);
    }
    out.push(']');
    out
}

/// `serde_json::to_string(message)`, faster: one stored record, one returned message.
pub fn message_json(m: &Message) -> String {
    let mut out = String::with_capacity(160 + m.id.len() + m.session_id.len() + m.content.len());
    message(&mut out, m);
    out
}

fn message(out: &mut String, m: &Message) {
    out.push_str("{\"id\":");
    string(out, &m.id);
    out.push_str(",\"sessionId\":");
    string(out, &m.session_id);
    let _ = write!(out, ",\"seq\":{}", m.seq);
    match m.parent {
        Parent::Previous => {}
        Parent::Root => out.push_str(",\"parentSeq\":null"),
        Parent::Seq(p) => {
            let _ = write!(out, ",\"parentSeq\":{p}");
        }
    }
    let _ = write!(out, ",\"role\":\"{}\",\"content\":", m.role.as_str());
    string(out, &m.content);
    if let Some(name) = &m.name {
        out.push_str(",\"name\":");
        string(out, name);
    }
    if !m.tool_calls.is_empty() {
        out.push_str(",\"toolCalls\":[");
        for (i, call) in m.tool_calls.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            tool_call(out, call);
        }
        out.push(']');
    }
    if let Some(id) = &m.tool_call_id {
        out.push_str(",\"toolCallId\":");
        string(out, id);
    }
    let status = match m.status {
        MessageStatus::Complete => "complete",
        MessageStatus::Interrupted => "interrupted",
        MessageStatus::Error => "error",
    };
    let _ = write!(out, ",\"status\":\"{status}\",\"createdAt\":");
    float(out, m.created_at);
    let _ = write!(out, ",\"tokens\":{}", m.tokens);
    if let Some(id) = &m.run_id {
        out.push_str(",\"runId\":");
        string(out, id);
    }
    if let Some(metadata) = &m.metadata {
        out.push_str(",\"metadata\":");
        out.push_str(&serde_json::to_string(metadata).unwrap_or_else(|_| "{}".to_owned()));
    }
    if let Some(payload) = &m.payload {
        out.push_str(",\"payload\":");
        out.push_str(&serde_json::to_string(payload).unwrap_or_else(|_| "null".to_owned()));
    }
    out.push('}');
}

/// `serde_json::to_string(session)`, faster: the record an append rewrites.
pub fn session_json(s: &Session) -> String {
    let mut out = String::with_capacity(200 + s.id.len() + s.title.as_ref().map_or(0, String::len));
    let _ = write!(out, "{{\"v\":{},\"id\":", s.v);
    string(&mut out, &s.id);
    out.push_str(",\"title\":");
    match &s.title {
        Some(title) => string(&mut out, title),
        None => out.push_str("null"),
    }
    out.push_str(",\"metadata\":");
    if s.metadata.is_empty() {
        out.push_str("{}");
    } else {
        out.push_str(&serde_json::to_string(&s.metadata).unwrap_or_else(|_| "{}".to_owned()));
    }
    out.push_str(",\"createdAt\":");
    float(&mut out, s.created_at);
    out.push_str(",\"updatedAt\":");
    float(&mut out, s.updated_at);
    let u = &s.usage;
    let _ = write!(
        out,
        ",\"messageCount\":{},\"nextSeq\":{},\"usage\":{{\"inputTokens\":{},\"outputTokens\":{},\"totalTokens\":{}}}",
        s.message_count, s.next_seq, u.input_tokens, u.output_tokens, u.total_tokens
    );
    if let Some(max) = s.max_messages {
        let _ = write!(out, ",\"maxMessages\":{max}");
    }
    if let Some(calibration) = &s.calibration {
        out.push_str(",\"calibration\":");
        out.push_str(&serde_json::to_string(calibration).unwrap_or_else(|_| "null".to_owned()));
    }
    if let Some(head) = s.head_seq {
        let _ = write!(out, ",\"headSeq\":{head}");
    }
    if let Some(first) = s.first_seq {
        let _ = write!(out, ",\"firstSeq\":{first}");
    }
    out.push('}');
    out
}

fn tool_call(out: &mut String, call: &ToolCall) {
    out.push_str("{\"id\":");
    string(out, &call.id);
    out.push_str(",\"name\":");
    string(out, &call.name);
    out.push_str(",\"arguments\":");
    string(out, &call.arguments);
    out.push('}');
}

/// A float as serde_json (ryu) writes it. Whole numbers below 10^15 — every `Date.now()` — are
/// `digits.0`; anything else (fractions, huge, -0, non-finite) is left to serde_json.
fn float(out: &mut String, x: f64) {
    if x.fract() == 0.0 && x.abs() < 1e15 && !(x == 0.0 && x.is_sign_negative()) {
        let _ = write!(out, "{}.0", x as i64);
    } else {
        out.push_str(&serde_json::to_string(&x).unwrap_or_else(|_| "null".to_owned()));
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes is below 0x20, `"` or `\`.
fn needs_escape(w: u64) -> bool {
    let control = w.wrapping_sub(LO * 0x20);
    let quote = (w ^ (LO * b'"' as u64)).wrapping_sub(LO) & !(w ^ (LO * b'"' as u64));
    let backslash = (w ^ (LO * b'\\' as u64)).wrapping_sub(LO) & !(w ^ (LO * b'\\' as u64));
    (control | quote | backslash) & !w & HI != 0
}

/// A JSON string literal, escaped as serde_json escapes (`\"`, `\\`, `\b\f\n\r\t`, other control
/// characters as `\u00xx`; everything else as is).
pub fn string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    // `start..i` is copied as is; both stay on ASCII bytes, so on character boundaries.
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            if !needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(escape);
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Role;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    fn msg(content: String, created_at: f64, extra: bool) -> Message {
        let mut metadata = Map::new();
        metadata.insert("z".into(), Value::from(1));
        metadata.insert(
            "a\n".into(),
            Value::from(vec![Value::from(0.5), Value::Null]),
        );
        Message {
            id: format!("msg_{content}"),
            session_id: "s\"1".into(),
            seq: 7,
            parent: match content.len() % 3 {
                0 => Parent::Previous,
                1 => Parent::Root,
                _ => Parent::Seq(3),
            },
            role: if extra { Role::Tool } else { Role::User },
            content: content.clone(),
            name: extra.then(|| "bot\u{1}".into()),
            tool_calls: if extra {
                vec![
                    ToolCall {
                        id: "c1".into(),
                        name: "f".into(),
                        arguments: content.clone(),
                    },
                    ToolCall {
                        id: "c2".into(),
                        name: "g".into(),
                        arguments: String::new(),
                    },
                ]
            } else {
                vec![]
            },
            tool_call_id: extra.then(|| "c0".into()),
            status: if extra {
                MessageStatus::Interrupted
            } else {
                MessageStatus::Complete
            },
            created_at,
            tokens: 42,
            run_id: extra.then(|| "run_1".into()),
            metadata: extra.then_some(metadata.clone()),
            payload: extra.then(|| Value::Array(vec![Value::Object(metadata)])),
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let floats = [
            0.0,
            -0.0,
            1.0,
            -3.0,
            1733000000000.0,
            0.5,
            1e15,
            1e16,
            1e21,
            123.456,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
            999_999_999_999_999.0,
        ];
        let texts = [
            "",
            "plain",
            "a\"b\\c",
            "\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}",
            "é€😀 ünï\u{2028}",
            "12345678\"",
            "1234567\\x",
        ];
        let mut all = Vec::new();
        for (i, x) in floats.into_iter().enumerate() {
            for t in texts {
                all.push(msg(t.repeat(i % 3 + 1), x, i % 2 == 0));
            }
        }
        assert_eq!(messages_json(&all), serde_json::to_string(&all).unwrap());
        assert_eq!(messages_json(&[]), "[]");
        for m in &all {
            assert_eq!(message_json(m), serde_json::to_string(m).unwrap());
        }
    }

    #[test]
    fn writes_session_records_as_serde_json_does() {
        let mut s = Session::new("s\"1\n".into(), 1733000000000.0);
        assert_eq!(session_json(&s), serde_json::to_string(&s).unwrap());
        s.title = Some("Trip \u{1} to Zürich".into());
        s.metadata.insert("z".into(), Value::from(1));
        s.metadata
            .insert("a".into(), Value::from(vec![Value::from(0.5), Value::Null]));
        s.updated_at = 0.5;
        s.message_count = 12;
        s.next_seq = u64::MAX;
        s.usage.input_tokens = 7;
        s.usage.total_tokens = 9;
        s.max_messages = Some(40);
        s.calibration = Some(crate::core::context::Calibration {
            ratio: 1.25,
            samples: 3,
        });
        assert_eq!(session_json(&s), serde_json::to_string(&s).unwrap());
        s.created_at = -0.0;
        s.max_messages = None;
        assert_eq!(session_json(&s), serde_json::to_string(&s).unwrap());
        s.head_seq = Some(4);
        s.first_seq = Some(0);
        assert_eq!(session_json(&s), serde_json::to_string(&s).unwrap());
        let back: Session = crate::core::json::from_str(&session_json(&s)).unwrap();
        assert_eq!(back, s);
    }

    proptest! {
        #[test]
        fn session_records_match_serde_json(id in any::<String>(), title in proptest::option::of(any::<String>()), x in any::<f64>(), n in any::<u64>()) {
            let mut s = Session::new(id, x);
            s.title = title;
            s.message_count = n;
            prop_assert_eq!(session_json(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn matches_serde_json_on_any_text(texts in proptest::collection::vec(any::<String>(), 0..8), x in any::<f64>(), extra: bool) {
            let all: Vec<Message> = texts.into_iter().map(|t| msg(t, x, extra)).collect();
            prop_assert_eq!(messages_json(&all), serde_json::to_string(&all).unwrap());
        }

        #[test]
        fn matches_serde_json_on_ascii_and_controls(t in "[\\x00-\\x7f]{0,40}", x in 0u64..(1 << 53)) {
            let all = vec![msg(t, x as f64, false)];
            prop_assert_eq!(messages_json(&all), serde_json::to_string(&all).unwrap());
        }
    }
}
