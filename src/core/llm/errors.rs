//! Provider errors: a non-2xx response, or an error object inside a 200 body or a stream, turned
//! into one [`Error`] with the status, the provider's own message and whether a retry may help.

use serde_json::Value;

use super::codec::snippet;
use super::retry::is_retryable_status;
use super::Provider;
use crate::core::error::{Error, ErrorCode};

/// Turns a non-2xx response into an error carrying the status, the provider's own message and
/// whether a retry may help.
pub fn decode_error(
    provider: Provider,
    status: u16,
    retry_after_ms: Option<u64>,
    body: &[u8],
) -> Error {
    let detail = crate::core::json::parse_bytes(body)
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
                .unwrap_or_else(|| crate::core::json::text(e));
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
                    Some(snippet(crate::core::json::text(d).as_bytes(), 200))
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
