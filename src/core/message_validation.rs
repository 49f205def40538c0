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
            "unknown role {:?} (expected system, user, assistant or tool)",
            ids::truncate_for_message(&input.role)
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
    Ok(Message {
        id,
        session_id: session.id.clone(),
        seq: session.next_seq,
        parent: Default::default(),
        role,
        tokens: estimate_message_tokens(&content, &extra),
        content,
        name: input.name,
        tool_calls: input.tool_calls,
        tool_call_id: input.tool_call_id,
        status: input.status.unwrap_or(MessageStatus::Complete),
        created_at,
        run_id: input.run_id,
        metadata,
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
