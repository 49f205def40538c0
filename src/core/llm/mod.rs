//! LLM provider codecs: turn a session's history into an HTTP request for OpenAI-compatible,
//! Anthropic or Gemini endpoints, and turn their JSON bodies, SSE streams and error bodies back
//! into one shape. Pure: the platform layer does the `fetch`, the clock and the randomness.
//!
//! Nothing here may panic on what a server or a caller sends: in wasm a panic aborts the whole
//! instance, so every lookup into decoded data is fallible.

mod anthropic;
pub mod chat;
mod gemini;
pub mod mock;
mod openai;
pub mod retry;
pub mod sse;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::error::{Error, ErrorCode, Result};
use crate::core::model::{Message, Role, ToolCall, Usage};
use sse::{SseEvent, SseParser};

pub use retry::{is_retryable_status, parse_retry_after, RetryPolicy};

/// Which wire format to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI Chat Completions, and every server that copies it (Ollama, vLLM, llama.cpp, Groq,
    /// OpenRouter, ...) through `base_url`.
    OpenAi,
    Anthropic,
    Gemini,
    /// The offline provider of [`mock`]: it has no wire format at all.
    Mock,
}

impl Provider {
    /// Accepts the names used in configuration, case-insensitively.
    pub fn parse(s: &str) -> Option<Provider> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(Provider::OpenAi),
            "anthropic" => Some(Provider::Anthropic),
            "gemini" => Some(Provider::Gemini),
            "mock" => Some(Provider::Mock),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Mock => "mock",
        }
    }

    /// The URL prefix used when the configuration gives none.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("https://api.openai.com/v1"),
            Provider::Anthropic => Some("https://api.anthropic.com"),
            Provider::Gemini => Some("https://generativelanguage.googleapis.com/v1beta"),
            Provider::Mock => None,
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach one model.
#[derive(Clone, PartialEq)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub model: String,
    pub api_key: Option<String>,
    /// Replaces the provider's default URL prefix (e.g. `http://localhost:11434/v1`).
    pub base_url: Option<String>,
    /// Extra request headers; one whose name matches a default header (case-insensitively)
    /// replaces it, so a gateway's own auth header can stand in for the provider's.
    pub headers: Vec<(String, String)>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Anthropic only: sends `anthropic-dangerous-direct-browser-access: true`, without which
    /// Anthropic refuses CORS requests from a browser.
    pub dangerous_direct_browser_access: bool,
}

impl ProviderConfig {
    pub fn new(provider: Provider, model: impl Into<String>) -> Self {
        ProviderConfig {
            provider,
            model: model.into(),
            api_key: None,
            base_url: None,
            headers: Vec::new(),
            max_tokens: None,
            temperature: None,
            dangerous_direct_browser_access: false,
        }
    }
}

// Written by hand so that a logged config never shows the key or header values (which may
// carry credentials too).
impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ProviderConfig")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("headers", &header_names)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field(
                "dangerous_direct_browser_access",
                &self.dangerous_direct_browser_access,
            )
            .finish()
    }
}

/// A tool the model may call. `parameters` is a JSON Schema for the arguments object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parameters: Value,
}

/// What to send: the system prompt, the (already selected) history and the tools.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    pub system: Option<&'a str>,
    pub messages: &'a [Message],
    pub tools: &'a [ToolSpec],
    pub stream: bool,
}

/// A request for the platform layer to `fetch`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A whole reply. `finish_reason` is the provider's own word (`stop`, `end_turn`, `STOP`,
/// `tool_calls`, ...), not normalised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatResponse {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    pub model: Option<String>,
}

impl ChatResponse {
    /// Folds stream events into the reply they describe; `ChatResponse::default()` then `apply`
    /// for each event gives what the non-streaming endpoint would have returned.
    pub fn apply(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(t) => self.content.push_str(t),
            StreamEvent::ToolCall(c) => self.tool_calls.push(c.clone()),
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Finish { reason } => self.finish_reason = Some(reason.clone()),
            StreamEvent::Model(m) => self.model = Some(m.clone()),
        }
    }

    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e StreamEvent>) -> Self {
        let mut r = ChatResponse::default();
        for e in events {
            r.apply(e);
        }
        r
    }
}

/// One step of a streamed reply.
///
/// A stream that decodes without error yields exactly one `Finish`. `ToolCall`s come whole,
/// before `Finish`. `Usage` may come more than once and after `Finish` (OpenAI sends it in a
/// chunk of its own at the end): the last one is the total. `Model` comes at most once.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    TextDelta(String),
    ToolCall(ToolCall),
    Usage(Usage),
    Finish { reason: String },
    Model(String),
}

/// Builds the HTTP request for `req` in the configured provider's format.
///
/// Fails with `INVALID_CONFIG` for an unusable configuration (empty model, header with a line
/// break, non-finite temperature, the mock provider) and `INVALID_MESSAGE` for a history the
/// provider cannot accept (a tool result without `tool_call_id`, tool-call arguments that are
/// not a JSON object where the provider needs one, an Anthropic history not starting with a
/// user turn).
pub fn encode_request(cfg: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest> {
    if cfg.model.trim().is_empty() && cfg.provider != Provider::Mock {
        return Err(Error::invalid_config("the model name is empty"));
    }
    if let Some(t) = cfg.temperature {
        if !t.is_finite() {
            return Err(Error::invalid_config("temperature must be a finite number"));
        }
    }
    for tool in req.tools {
        if tool.name.trim().is_empty() {
            return Err(Error::invalid_argument("a tool has an empty name"));
        }
    }
    let mut http = match cfg.provider {
        Provider::OpenAi => openai::encode(cfg, req)?,
        Provider::Anthropic => anthropic::encode(cfg, req)?,
        Provider::Gemini => gemini::encode(cfg, req)?,
        Provider::Mock => return Err(mock_has_no_wire_format()),
    };
    merge_user_headers(&mut http.headers, &cfg.headers)?;
    Ok(http)
}

/// Decodes a successful (2xx) non-streaming response body.
pub fn decode_response(provider: Provider, body: &[u8]) -> Result<ChatResponse> {
    let v = parse_body(provider, body)?;
    if let Some(e) = error_in_body(provider, &v) {
        return Err(e);
    }
    match provider {
        Provider::OpenAi => openai::decode(&v),
        Provider::Anthropic => anthropic::decode(&v),
        Provider::Gemini => gemini::decode(&v),
        Provider::Mock => Err(mock_has_no_wire_format()),
    }
}

/// Turns a non-2xx response into an error carrying the status, the provider's own message and
/// whether a retry may help.
pub fn decode_error(
    provider: Provider,
    status: u16,
    retry_after_ms: Option<u64>,
    body: &[u8],
) -> Error {
    let detail = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| error_detail(&v))
        .map(|d| match d.kind {
            Some(kind) if !d.message.contains(&kind) => format!("{} ({kind})", d.message),
            _ => d.message,
        })
        .unwrap_or_else(|| {
            let s = snippet(body, 200);
            if s.is_empty() {
                String::from("(empty body)")
            } else {
                s
            }
        });
    let code = if status == 429 {
        ErrorCode::LlmRateLimited
    } else {
        ErrorCode::LlmHttp
    };
    Error::new(code, format!("{provider} returned HTTP {status}: {detail}"))
        .with_status(status)
        .with_retryable(is_retryable_status(status))
        .with_retry_after_ms(retry_after_ms)
}

/// Longest line or event the stream decoder holds before giving up on the stream: a server that
/// never ends a line must not grow memory without bound.
const MAX_BUFFERED_BYTES: usize = 32 * 1024 * 1024;

/// Decodes a streamed (SSE) response body chunk by chunk.
///
/// When a chunk both completes some events and then fails (an error event, a malformed
/// payload), `push` returns the good events and the next call to `push` or `finish` returns the
/// error, so text that reached the caller before the failure is not lost.
#[derive(Debug)]
pub struct StreamDecoder {
    provider: Provider,
    sse: SseParser,
    state: StreamState,
    /// A failure to report on the next call, and on every call after it.
    failed: Option<Error>,
    events_seen: usize,
    text_chars: usize,
    tool_calls_seen: usize,
}

#[derive(Debug)]
enum StreamState {
    OpenAi(openai::StreamState),
    Anthropic(anthropic::StreamState),
    Gemini(gemini::StreamState),
    Mock,
}

impl StreamDecoder {
    pub fn new(provider: Provider) -> Self {
        let state = match provider {
            Provider::OpenAi => StreamState::OpenAi(openai::StreamState::default()),
            Provider::Anthropic => StreamState::Anthropic(anthropic::StreamState::default()),
            Provider::Gemini => StreamState::Gemini(gemini::StreamState::default()),
            Provider::Mock => StreamState::Mock,
        };
        StreamDecoder {
            provider,
            sse: SseParser::new(),
            state,
            failed: None,
            events_seen: 0,
            text_chars: 0,
            tool_calls_seen: 0,
        }
    }

    /// Feeds the next body chunk.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<StreamEvent>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let events = self.sse.push(bytes);
        let mut out = Vec::new();
        let mut result = self.handle_all(&events, false, &mut out);
        if result.is_ok() && self.sse.buffered_len() > MAX_BUFFERED_BYTES {
            result = Err(Error::new(
                ErrorCode::LlmBadResponse,
                format!(
                    "the {} stream sent more than {MAX_BUFFERED_BYTES} bytes without completing an event",
                    self.provider
                ),
            ));
        }
        match result {
            Ok(()) => Ok(out),
            Err(e) => {
                self.failed = Some(e.clone());
                if out.is_empty() {
                    Err(e)
                } else {
                    Ok(out)
                }
            }
        }
    }

    /// Ends the body. Fails with `LLM_STREAM_TRUNCATED` when the provider's end marker never
    /// came, with a message saying how far the stream got.
    pub fn finish(&mut self) -> Result<Vec<StreamEvent>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let events = self.sse.finish();
        let mut out = Vec::new();
        let result = self
            .handle_all(&events, true, &mut out)
            .and_then(|()| self.check_complete());
        match result {
            Ok(()) => Ok(out),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn handle_all(
        &mut self,
        events: &[SseEvent],
        at_eof: bool,
        out: &mut Vec<StreamEvent>,
    ) -> Result<()> {
        for ev in events {
            self.events_seen += 1;
            let start = out.len();
            let r = self.handle(ev, out);
            for e in out.get(start..).unwrap_or_default() {
                match e {
                    StreamEvent::TextDelta(t) => self.text_chars += t.chars().count(),
                    StreamEvent::ToolCall(_) => self.tool_calls_seen += 1,
                    _ => {}
                }
            }
            if let Err(e) = r {
                // An event the body ended in the middle of is truncation, not a bad server.
                if at_eof && e.code == ErrorCode::LlmBadResponse {
                    return Err(self.truncated());
                }
                return Err(e);
            }
        }
        Ok(())
    }

    fn handle(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<()> {
        match &mut self.state {
            StreamState::OpenAi(s) => s.on_event(ev, out),
            StreamState::Anthropic(s) => s.on_event(ev, out),
            StreamState::Gemini(s) => s.on_event(ev, out),
            StreamState::Mock => Err(mock_has_no_wire_format()),
        }
    }

    fn check_complete(&self) -> Result<()> {
        let complete = match &self.state {
            StreamState::OpenAi(s) => s.is_complete(),
            StreamState::Anthropic(s) => s.is_complete(),
            StreamState::Gemini(s) => s.is_complete(),
            StreamState::Mock => return Err(mock_has_no_wire_format()),
        };
        if complete {
            Ok(())
        } else {
            Err(self.truncated())
        }
    }

    fn truncated(&self) -> Error {
        let (marker, pending) = match &self.state {
            StreamState::OpenAi(s) => ("`data: [DONE]` or a finish_reason", s.pending_calls()),
            StreamState::Anthropic(s) => ("message_stop", s.pending_calls()),
            StreamState::Gemini(_) => ("a finishReason", 0),
            StreamState::Mock => ("", 0),
        };
        let mut msg = format!(
            "the {} stream ended before {marker}; received {} event{}, {} character{} of text, {} tool call{}",
            self.provider,
            self.events_seen,
            plural(self.events_seen),
            self.text_chars,
            plural(self.text_chars),
            self.tool_calls_seen,
            plural(self.tool_calls_seen),
        );
        if pending > 0 {
            msg.push_str(&format!(
                " and {pending} unfinished tool call{}",
                plural(pending)
            ));
        }
        Error::new(ErrorCode::LlmStreamTruncated, msg)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn mock_has_no_wire_format() -> Error {
    Error::invalid_config(
        "the mock provider makes no HTTP requests; use llm::mock::mock_reply instead",
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the provider modules.

/// The first `max_chars` characters of a body, for error messages.
pub(crate) fn snippet(bytes: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.trim().chars().take(max_chars).collect()
}

fn parse_body(provider: Provider, body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorCode::LlmBadResponse,
            format!(
                "{provider} sent a body that is not valid JSON ({e}): {}",
                snippet(body, 200)
            ),
        )
    })
}

/// Parses one stream payload.
pub(crate) fn parse_payload(provider: Provider, data: &str) -> Result<Value> {
    parse_body(provider, data.as_bytes())
}

struct ErrorDetail {
    message: String,
    /// The provider's error type, for the message.
    kind: Option<String>,
    /// Every classifying word the error carries (type, status, string code), lowercased: OpenAI
    /// puts `rate_limit_exceeded` in `code` with a vaguer `type`.
    tags: Vec<String>,
    code: Option<u16>,
}

/// Finds the error in the shapes providers and compatible servers use: `{"error": {"message",
/// "type"|"status", "code"}}` (OpenAI, Anthropic, Gemini), `{"error": "text"}` (Ollama),
/// `{"message": ..}` (vLLM), `{"detail": ..}` (FastAPI servers), and Gemini's stream endpoint
/// wrapping the object in an array.
fn error_detail(v: &Value) -> Option<ErrorDetail> {
    let v = match v {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    match v.get("error") {
        Some(Value::String(s)) => Some(ErrorDetail {
            message: s.clone(),
            kind: None,
            tags: Vec::new(),
            code: None,
        }),
        Some(e @ Value::Object(_)) => {
            let kind = str_of(e, "type")
                .or_else(|| str_of(e, "status"))
                .or_else(|| str_of(e, "code"));
            let message = str_of(e, "message")
                .or_else(|| kind.clone())
                .unwrap_or_else(|| e.to_string());
            let code = e
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok());
            let tags = ["type", "status", "code"]
                .iter()
                .filter_map(|k| str_of(e, k))
                .map(|t| t.to_ascii_lowercase())
                .collect();
            Some(ErrorDetail {
                message,
                kind,
                tags,
                code,
            })
        }
        _ => {
            let message = str_of(v, "message").or_else(|| match v.get("detail") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(d @ (Value::Array(_) | Value::Object(_))) => {
                    Some(snippet(d.to_string().as_bytes(), 200))
                }
                _ => None,
            })?;
            let kind = str_of(v, "type");
            Some(ErrorDetail {
                message,
                tags: kind.iter().map(|k| k.to_ascii_lowercase()).collect(),
                kind,
                code: None,
            })
        }
    }
}

/// An error object inside a 200 body or a stream. Only a present, non-null `error` counts:
/// `{"message": ..}` alone is not an error in a successful body.
pub(crate) fn error_in_body(provider: Provider, v: &Value) -> Option<Error> {
    let has_error = match v {
        Value::Object(m) => {
            m.get("error").is_some_and(|e| !e.is_null())
                || m.get("type").and_then(Value::as_str) == Some("error")
        }
        _ => false,
    };
    if !has_error {
        return None;
    }
    let d = error_detail(v)?;
    Some(stream_error(provider, d))
}

/// Classifies an error reported with a 200 status: there is no HTTP status to go by, so the
/// provider's error type decides.
fn stream_error(provider: Provider, d: ErrorDetail) -> Error {
    let any_tag = |f: &dyn Fn(&str) -> bool| d.tags.iter().any(|t| f(t));
    let rate_limited =
        any_tag(&|t| t.contains("rate_limit") || t == "resource_exhausted") || d.code == Some(429);
    let transient = any_tag(&|t| {
        t.contains("overloaded")
            || matches!(
                t,
                "api_error" | "server_error" | "internal" | "unavailable" | "deadline_exceeded"
            )
    }) || d.code.is_some_and(is_retryable_status);
    let code = if rate_limited {
        ErrorCode::LlmRateLimited
    } else {
        ErrorCode::LlmHttp
    };
    let label = d.kind.as_deref().unwrap_or("error");
    Error::new(code, format!("{provider} reported {label}: {}", d.message))
        .with_retryable(rate_limited || transient)
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
    match crate::core::json::from_str::<Value>(&call.arguments) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::invalid_message(format!(
            "tool call {:?} ({}) has arguments that are not a JSON object, which {provider} requires",
            call.id, call.name
        ))),
        Err(e) => Err(Error::invalid_message(format!(
            "tool call {:?} ({}) has arguments that are not valid JSON: {e}",
            call.id, call.name
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

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn merge_user_headers(
    headers: &mut Vec<(String, String)>,
    extra: &[(String, String)],
) -> Result<()> {
    for (name, value) in extra {
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(Error::invalid_config(format!(
                "{name:?} is not a valid HTTP header name"
            )));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(Error::invalid_config(format!(
                "the value of header {name:?} contains a line break or NUL character"
            )));
        }
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.to_ascii_lowercase(), value.clone()));
    }
    Ok(())
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
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
