//! Validation of a caller's message (`addMessage`, an imported bundle) and its completion into a
//! stored [`Message`]: role, content, tool calls, ids, name, time and metadata are checked here,
//! once, for every way a message gets in.

use serde_json::Value;

use crate::core::context::estimate_message_tokens;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::ids;
use crate::core::io::RandomSource;
use crate::core::metadata::sanitize_metadata;
use crate::core::model::{Message, MessageStatus, Millis, NewMessage, Role, Session, ToolCall};

/// Largest accepted message content, in bytes of UTF-8.
pub const MAX_CONTENT_BYTES: usize = 4 * 1024 * 1024;

/// Validates a caller's message and completes it into a stored one.
pub(crate) fn build_message(
    session: &Session,
    input: NewMessage,
    now: Millis,
    rng: &dyn RandomSource,
) -> Result<Message> {
    let role = Role::parse(&input.role).ok_or_else(|| {
        Error::invalid_message(format!(
            "unknown role {} (expected system, user, assistant or tool)",
            crate::core::json::quote(&ids::truncate_for_message(&input.role))
        ))
    })?;
    let content = content_text(input.content)?;
    if content.len() > MAX_CONTENT_BYTES {
        return Err(Error::invalid_message(format!(
            "content is {} bytes (at most {MAX_CONTENT_BYTES})",
            content.len()
        )));
    }
    match role {
        Role::User | Role::System if content.trim().is_empty() => {
            return Err(Error::invalid_message(format!(
                "a {} message needs non-empty content",
                role.as_str()
            )))
        }
        Role::Tool
            if input
                .tool_call_id
                .as_deref()
                .is_none_or(|t| t.trim().is_empty()) =>
        {
            return Err(Error::invalid_message("a tool message needs a toolCallId"))
        }
        _ => {}
    }
    if !input.tool_calls.is_empty() && role != Role::Assistant {
        return Err(Error::invalid_message(
            "only assistant messages carry toolCalls",
        ));
    }
    for call in &input.tool_calls {
        validate_tool_call(call)?;
    }
    let id = match input.id {
        Some(id) => {
            ids::validate_id("message", &id).map_err(|e| Error::invalid_message(e.message))?;
            id
        }
        None => ids::new_message_id(rng),
    };
    if let Some(name) = &input.name {
        if name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(Error::invalid_message(
                "name must be at most 128 characters, no control characters",
            ));
        }
    }
    let created_at = match input.created_at {
        Some(t) if t.is_finite() && t >= 0.0 => t,
        Some(_) => {
            return Err(Error::invalid_message(
                "createdAt must be a time in milliseconds",
            ))
        }
        None => now,
    };
    let payload = match input.payload {
        None | Some(Value::Null) => None,
        Some(v) => Some(check_payload(v)?),
    };
    let metadata = match input.metadata {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            sanitize_metadata(Some(v))
                .map_err(|e| Error::new(ErrorCode::InvalidMessage, e.message))?,
        ),
    };
    let extra: String = input
        .tool_calls
        .iter()
        .flat_map(|c| [c.name.as_str(), c.arguments.as_str()])
        .collect();
    // A payload's text (the AI SDK's parts, say, repeat the content): counted instead of the
    // content when it is longer; its ids, states and provider data never.
    let payload_text = payload.as_ref().map(text_parts).unwrap_or_default();
    let counted = if payload_text.len() > content.len() {
        payload_text.as_str()
    } else {
        content.as_str()
    };
    let tokens = estimate_message_tokens(counted, &extra);
    Ok(Message {
        id,
        session_id: session.id.clone(),
        seq: session.next_seq,
        parent: Default::default(),
        role,
        tokens,
        content,
        name: input.name,
        tool_calls: input.tool_calls,
        tool_call_id: input.tool_call_id,
        status: input.status.unwrap_or(MessageStatus::Complete),
        created_at,
        run_id: input.run_id,
        metadata,
        payload,
    })
}

/// Content is text; OpenAI-style part arrays are accepted and their text parts joined.
fn content_text(content: Option<Value>) -> Result<String> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part.get("text").and_then(Value::as_str) {
                    Some(t) => text.push_str(t),
                    None => {
                        return Err(Error::invalid_message(
                            "content parts must be objects with a text field",
                        ))
                    }
                }
            }
            Ok(text)
        }
        Some(_) => Err(Error::invalid_message("content must be a string")),
    }
}

fn validate_tool_call(call: &ToolCall) -> Result<()> {
    if call.id.trim().is_empty() || call.name.trim().is_empty() {
        return Err(Error::invalid_message("a tool call needs an id and a name"));
    }
    Ok(())
}

/// Largest accepted payload, as compact JSON.
pub const MAX_PAYLOAD_BYTES: usize = MAX_CONTENT_BYTES;

/// A payload is plain JSON within the size limit, with no key that could reach a JavaScript
/// prototype (the metadata rules, as `INVALID_MESSAGE`).
fn check_payload(payload: Value) -> Result<Value> {
    let wrapped = Value::Object(crate::core::json::object1("payload", payload));
    let size = serde_json::to_string(&wrapped).map_or(usize::MAX, |t| t.len());
    if size > MAX_PAYLOAD_BYTES + 12 {
        return Err(Error::invalid_message(format!(
            "payload is {size} bytes as JSON (at most {MAX_PAYLOAD_BYTES})"
        )));
    }
    let Value::Object(map) = wrapped else {
        return Err(Error::internal("payload wrapper"));
    };
    crate::core::metadata::check_plain(&map, "payload").map_err(|e| {
        Error::new(
            ErrorCode::InvalidMessage,
            e.message.replace("metadata ", "payload "),
        )
    })?;
    // The wrapper's one entry, moved out (`into_iter`, not `remove`: no map removal code).
    Ok(map.into_iter().next().map_or(Value::Null, |(_, v)| v))
}

/// The text of a payload's parts: every string under a `text` key, at any depth, joined by
/// newlines.
pub fn text_parts(payload: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match x {
                        Value::String(t) if k == "text" => {
                            if !out.is_empty() {
                                out.push('\n');
                            }
                            out.push_str(t);
                        }
                        _ => walk(x, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(payload, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::testing::SeqRandom;
    use serde_json::json;

    fn with_payload(content: &str, payload: Value) -> Result<Message> {
        let input = NewMessage {
            role: "assistant".into(),
            content: Some(json!(content)),
            payload: Some(payload),
            ..NewMessage::default()
        };
        build_message(
            &Session::new("s".into(), 1.0),
            input,
            1.0,
            &SeqRandom::new(1),
        )
    }

    #[test]
    fn a_payload_is_kept_verbatim_and_counted_by_its_text_only() {
        let parts = json!([
            { "type": "step-start" },
            { "type": "reasoning", "text": "Thinking about the weather in Lisbon today",
              "providerMetadata": { "openai": { "itemId": "rs_0123456789abcdef0123456789" } } },
            { "type": "text", "text": "Sunny." },
        ]);
        let m = with_payload("Sunny.", parts.clone()).unwrap();
        assert_eq!(m.payload, Some(parts));
        let text = "Thinking about the weather in Lisbon today\nSunny.";
        assert_eq!(m.tokens, estimate_message_tokens(text, ""));
        // Text the content already holds is not counted twice; ids and states never.
        let echo = with_payload(
            "Sunny.",
            json!({ "id": "x".repeat(500), "parts": [{ "text": "Sunny." }] }),
        );
        assert_eq!(echo.unwrap().tokens, estimate_message_tokens("Sunny.", ""));
        // `null` is no payload.
        assert_eq!(with_payload("a", Value::Null).unwrap().payload, None);
    }

    #[test]
    fn a_hostile_or_huge_payload_is_an_invalid_message() {
        let proto: Value = serde_json::from_str(r#"{"a":[{"__proto__":{"x":1}}]}"#).unwrap();
        let e = with_payload("a", proto).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMessage);
        assert!(e.message.contains("payload"), "{}", e.message);
        let huge = json!({ "text": "x".repeat(MAX_PAYLOAD_BYTES) });
        assert_eq!(
            with_payload("a", huge).unwrap_err().code,
            ErrorCode::InvalidMessage
        );
    }
}
