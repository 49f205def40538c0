//! Request bodies and query parameters, checked before anything is stored. A body is JSON; an
//! empty body is "no options" where the endpoint allows it (the seed's `POST …/sessions` sends
//! `Content-Type: application/json` and nothing else).

use serde_json::{Map, Value};

use crate::core::ids;

use super::error::ApiError;

/// `POST /sessions`: `{ session_id?, title?, metadata? }`, all optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateBody {
    pub session_id: Option<String>,
    pub title: Option<String>,
    pub metadata: Option<Value>,
}

/// `POST …/messages[/stream]`: `{ "message": "text" }` or `{ "message": { role, content } }`.
#[derive(Debug, Clone, PartialEq)]
pub struct SendBody {
    pub text: String,
}

/// `POST …/fork`: `{ at_message_id?, session_id?, title? }`, all optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForkBody {
    pub at_message_id: Option<String>,
    pub session_id: Option<String>,
    pub title: Option<String>,
}

fn parse_object(text: &str, empty_ok: bool) -> Result<Option<Map<String, Value>>, ApiError> {
    if text.trim().is_empty() {
        return if empty_ok {
            Ok(None)
        } else {
            Err(ApiError::new(
                "INVALID_MESSAGE",
                "the body is empty: send { \"message\": \"…\" }",
            ))
        };
    }
    let value: Value = crate::core::json::parse(text).map_err(|e| {
        ApiError::new("INVALID_JSON", format!("the body is not JSON: {e}"))
            .with_details(serde_json::json!({ "line": e.line(), "column": e.column() }))
    })?;
    match value {
        Value::Object(o) => Ok(Some(o)),
        other => Err(ApiError::new(
            "INVALID_ARGUMENT",
            format!("the body must be a JSON object, not {}", kind(&other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unknown_field(o: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::new(
            "INVALID_ARGUMENT",
            format!("unknown field {}", crate::core::json::quote(k)),
        )
        .with_details(serde_json::json!({ "field": k, "allowed": known }))),
        None => Ok(()),
    }
}

pub fn parse_create(text: &str) -> Result<CreateBody, ApiError> {
    let Some(o) = parse_object(text, true)? else {
        return Ok(CreateBody::default());
    };
    unknown_field(&o, &["session_id", "title", "metadata"])?;
    let session_id = id_field(&o, "session_id", "session")?;
    let title = title_field(&o)?;
    let metadata = match o.get("metadata") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(v) => {
            return Err(ApiError::new(
                "INVALID_METADATA",
                format!("metadata must be an object, not {}", kind(v)),
            ))
        }
    };
    Ok(CreateBody {
        session_id,
        title,
        metadata,
    })
}

/// An optional id field: a string checked as the library checks ids.
fn id_field(
    o: &Map<String, Value>,
    field: &str,
    id_kind: &str,
) -> Result<Option<String>, ApiError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            ids::validate_id(id_kind, s).map_err(ApiError::from)?;
            Ok(Some(s.clone()))
        }
        Some(v) => Err(ApiError::new(
            "INVALID_ID",
            format!("{field} must be a string, not {}", kind(v)),
        )),
    }
}

fn title_field(o: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match o.get("title") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(ApiError::new(
            "INVALID_ARGUMENT",
            format!("title must be a string, not {}", kind(v)),
        )),
    }
}

pub fn parse_fork(text: &str) -> Result<ForkBody, ApiError> {
    let Some(o) = parse_object(text, true)? else {
        return Ok(ForkBody::default());
    };
    unknown_field(&o, &["at_message_id", "session_id", "title"])?;
    Ok(ForkBody {
        at_message_id: id_field(&o, "at_message_id", "message")?,
        session_id: id_field(&o, "session_id", "session")?,
        title: title_field(&o)?,
    })
}

/// A body with no fields (`POST …/regenerate`, `…/switch`): empty or `{}`.
pub fn parse_empty(text: &str) -> Result<(), ApiError> {
    match parse_object(text, true)? {
        Some(o) => unknown_field(&o, &[]),
        None => Ok(()),
    }
}

pub fn parse_send(text: &str) -> Result<SendBody, ApiError> {
    let o = parse_object(text, false)?.unwrap_or_default();
    unknown_field(&o, &["message"])?;
    let missing = || {
        ApiError::new("INVALID_MESSAGE", "missing field \"message\"")
            .with_details(serde_json::json!({ "field": "message" }))
    };
    let text = match o.get("message") {
        None | Some(Value::Null) => return Err(missing()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => {
            unknown_field(m, &["role", "content"])?;
            match m.get("role") {
                None => {}
                Some(Value::String(r)) if r == "user" => {}
                Some(r) => {
                    return Err(ApiError::new(
                        "INVALID_MESSAGE",
                        format!("message.role must be \"user\", not {r}"),
                    ))
                }
            }
            match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    return Err(ApiError::new(
                        "INVALID_MESSAGE",
                        "message.content must be a string",
                    ))
                }
            }
        }
        Some(v) => {
            return Err(ApiError::new(
                "INVALID_MESSAGE",
                format!(
                    "message must be a string or {{ role, content }}, not {}",
                    kind(v)
                ),
            ))
        }
    };
    if text.trim().is_empty() {
        return Err(ApiError::new("INVALID_MESSAGE", "message is empty"));
    }
    Ok(SendBody { text })
}

/// `limit` from a query string: absent → `default`, else 1..=`max`.
pub fn parse_limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            "INVALID_ARGUMENT",
            format!(
                "limit must be an integer from 1 to {max}, not {}",
                crate::core::json::quote(&ids::truncate_for_message(raw))
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_create_body_is_no_options() {
        assert_eq!(parse_create("").unwrap(), CreateBody::default());
        assert_eq!(parse_create("  \n").unwrap(), CreateBody::default());
        assert_eq!(parse_create("{}").unwrap(), CreateBody::default());
    }

    #[test]
    fn create_body_fields_are_checked() {
        let b = parse_create(r#"{"session_id":"user-1","title":"T","metadata":{"k":1}}"#).unwrap();
        assert_eq!(b.session_id.as_deref(), Some("user-1"));
        assert_eq!(b.title.as_deref(), Some("T"));
        assert_eq!(b.metadata, Some(serde_json::json!({ "k": 1 })));
        assert_eq!(
            parse_create(r#"{"session_id":""}"#).unwrap_err().code,
            "INVALID_ID"
        );
        assert_eq!(
            parse_create(r#"{"session_id":5}"#).unwrap_err().code,
            "INVALID_ID"
        );
        assert_eq!(
            parse_create(r#"{"metadata":[1]}"#).unwrap_err().code,
            "INVALID_METADATA"
        );
        assert_eq!(
            parse_create(r#"{"title":1}"#).unwrap_err().code,
            "INVALID_ARGUMENT"
        );
        assert_eq!(
            parse_create(r#"{"nope":1}"#).unwrap_err().code,
            "INVALID_ARGUMENT"
        );
        assert_eq!(parse_create("[1]").unwrap_err().code, "INVALID_ARGUMENT");
        let e = parse_create("{").unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "INVALID_JSON"));
    }

    #[test]
    fn send_body_takes_a_string_or_a_user_message() {
        assert_eq!(
            parse_send(r#"{"message":"Hello, remember me?"}"#)
                .unwrap()
                .text,
            "Hello, remember me?"
        );
        // The seed's pretty-printed body.
        assert_eq!(
            parse_send("{\n    \"message\": \"What did we talk about earlier?\"\n  }")
                .unwrap()
                .text,
            "What did we talk about earlier?"
        );
        assert_eq!(
            parse_send(r#"{"message":{"role":"user","content":"hi"}}"#)
                .unwrap()
                .text,
            "hi"
        );
        assert_eq!(
            parse_send(r#"{"message":{"content":"hi"}}"#).unwrap().text,
            "hi"
        );
    }

    #[test]
    fn send_body_errors_are_400_with_codes() {
        for (body, code) in [
            ("", "INVALID_MESSAGE"),
            ("{}", "INVALID_MESSAGE"),
            (r#"{"message":null}"#, "INVALID_MESSAGE"),
            (r#"{"message":""}"#, "INVALID_MESSAGE"),
            (r#"{"message":"  "}"#, "INVALID_MESSAGE"),
            (r#"{"message":3}"#, "INVALID_MESSAGE"),
            (
                r#"{"message":{"role":"system","content":"x"}}"#,
                "INVALID_MESSAGE",
            ),
            (r#"{"message":{"role":"user"}}"#, "INVALID_MESSAGE"),
            (r#"{"message":"x","extra":1}"#, "INVALID_ARGUMENT"),
            ("not json", "INVALID_JSON"),
            (r#""just a string""#, "INVALID_ARGUMENT"),
        ] {
            let e = parse_send(body).expect_err(body);
            assert_eq!((e.status, e.code.as_str()), (400, code), "{body}");
        }
        assert_eq!(parse_send("{}").unwrap_err().details["field"], "message");
    }

    #[test]
    fn fork_body_fields_are_checked() {
        assert_eq!(parse_fork("").unwrap(), ForkBody::default());
        assert_eq!(parse_fork("{}").unwrap(), ForkBody::default());
        let b = parse_fork(r#"{"at_message_id":"msg_1","session_id":"f/1","title":"T"}"#).unwrap();
        assert_eq!(
            (
                b.at_message_id.as_deref(),
                b.session_id.as_deref(),
                b.title.as_deref()
            ),
            (Some("msg_1"), Some("f/1"), Some("T"))
        );
        for (body, code) in [
            (r#"{"at_message_id":""}"#, "INVALID_ID"),
            (r#"{"at_message_id":7}"#, "INVALID_ID"),
            (r#"{"session_id":"  "}"#, "INVALID_ID"),
            (r#"{"title":false}"#, "INVALID_ARGUMENT"),
            (r#"{"atMessageId":"m"}"#, "INVALID_ARGUMENT"),
            ("[]", "INVALID_ARGUMENT"),
            ("{", "INVALID_JSON"),
        ] {
            let e = parse_fork(body).expect_err(body);
            assert_eq!((e.status, e.code.as_str()), (400, code), "{body}");
        }
    }

    #[test]
    fn an_empty_body_has_no_fields() {
        for ok in ["", " ", "{}"] {
            assert!(parse_empty(ok).is_ok(), "{ok:?}");
        }
        for (body, code) in [
            (r#"{"x":1}"#, "INVALID_ARGUMENT"),
            ("1", "INVALID_ARGUMENT"),
            ("{", "INVALID_JSON"),
        ] {
            assert_eq!(parse_empty(body).unwrap_err().code, code, "{body}");
        }
    }

    #[test]
    fn limits_are_bounded_integers() {
        assert_eq!(parse_limit(None, 50, 1000).unwrap(), 50);
        assert_eq!(parse_limit(Some("7"), 50, 1000).unwrap(), 7);
        for bad in ["0", "-1", "1001", "x", "1.5", ""] {
            assert_eq!(
                parse_limit(Some(bad), 50, 1000).unwrap_err().code,
                "INVALID_ARGUMENT",
                "{bad}"
            );
        }
    }
}
