//! Helpers the provider codecs share: reading bodies and payloads, picking URL, key and headers,
//! system text and tool arguments.

use serde_json::Value;

use super::{ChatRequest, Provider, ProviderConfig, ToolSpec};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::model::{Role, ToolCall};

/// The first `max_chars` characters of a body, for error messages.
pub(crate) fn snippet(bytes: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.trim().chars().take(max_chars).collect()
}

/// Parses a whole JSON reply. A body that ends in the middle of its JSON was cut in transit and
/// is worth fetching again (retryable); one that is not JSON at all (an HTML page from a wrong
/// base URL, a proxy's banner) would come back the same and is not.
pub(crate) fn parse_body(provider: Provider, body: &[u8]) -> Result<Value> {
    crate::core::json::parse_bytes(body).map_err(|e| {
        Error::new(
            ErrorCode::LlmBadResponse,
            format!(
                "{provider} sent a body that is not valid JSON ({e}): {}",
                snippet(body, 200)
            ),
        )
        .with_retryable(e.is_eof())
    })
}

/// Parses one stream payload. A chunk that does not parse, inside a stream that was otherwise
/// well formed, is damage in transit: retryable.
pub(crate) fn parse_payload(provider: Provider, data: &str) -> Result<Value> {
    parse_body(provider, data.as_bytes()).map_err(|e| e.with_retryable(true))
}

/// Concatenates the request's system prompt and any system-role messages of the history, for
/// the providers that take system text outside the message list.
pub(crate) fn folded_system_text(req: &ChatRequest) -> Option<String> {
    let parts: Vec<&str> = req
        .system
        .into_iter()
        .chain(
            req.messages
                .iter()
                .filter(|m| m.role == Role::System)
                .map(|m| m.content.as_str()),
        )
        .filter(|s| !s.trim().is_empty())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("\n\n"))
    }
}

/// The arguments of a tool call as a JSON object, for the providers that take structured
/// arguments. Empty text means "no arguments" (OpenAI streams it for parameterless tools);
/// anything else must be a JSON object, since inventing `{}` for bad JSON would silently replay
/// a different call than the model made.
pub(crate) fn arguments_object(
    provider: Provider,
    call: &ToolCall,
) -> Result<serde_json::Map<String, Value>> {
    if call.arguments.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    match crate::core::json::parse(&call.arguments) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::invalid_message(format!(
            "tool call {} ({}) has arguments that are not a JSON object, which {provider} requires",
            crate::core::json::quote(&call.id),
            call.name
        ))),
        Err(e) => Err(Error::invalid_message(format!(
            "tool call {} ({}) has arguments that are not valid JSON: {e}",
            crate::core::json::quote(&call.id),
            call.name
        ))),
    }
}

/// A tool's parameter schema, defaulting to "an object with no properties" when none was given.
pub(crate) fn parameters_schema(tool: &ToolSpec) -> Value {
    if tool.parameters.is_null() {
        serde_json::json!({"type": "object", "properties": {}})
    } else {
        tool.parameters.clone()
    }
}

pub(crate) fn base_url(cfg: &ProviderConfig) -> String {
    let custom = cfg
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let base = custom
        .or(cfg.provider.default_base_url())
        .unwrap_or_default();
    base.trim_end_matches('/').to_owned()
}

/// The API key, if one is set. Surrounding whitespace (a pasted newline) is dropped; a line
/// break inside would make `fetch` throw, so it is refused here with a clearer message.
pub(crate) fn api_key(cfg: &ProviderConfig) -> Result<Option<&str>> {
    match cfg.api_key.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(k) if k.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) => Err(
            Error::invalid_config("the API key contains a line break or NUL character"),
        ),
        Some(k) => Ok(Some(k)),
    }
}

pub(crate) fn base_headers(stream: bool) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "accept".into(),
            if stream {
                "text/event-stream".into()
            } else {
                "application/json".into()
            },
        ),
    ]
}

pub(crate) fn to_body(v: &Value) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot serialise request: {e}")))
}

pub(crate) fn u64_at(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(|n| {
        n.as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

pub(crate) fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// Tool-call arguments as text: servers that copy OpenAI sometimes send an object instead of the
/// JSON string the spec has.
pub(crate) fn arguments_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => crate::core::json::text(other),
    }
}
