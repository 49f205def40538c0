//! Session and message metadata: plain JSON objects, bounded in size and depth, with no key that
//! could reach a JavaScript prototype (`__proto__`, `constructor`, `prototype`) at any depth.

use serde_json::{Map, Value};

use crate::core::error::{Error, ErrorCode, Result};
use crate::core::ids::truncate_for_message;

/// Largest accepted metadata object, as compact JSON.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;
/// Deepest accepted nesting of objects and arrays.
pub const MAX_METADATA_DEPTH: usize = 32;
/// Longest accepted session title, in characters.
pub const MAX_TITLE_CHARS: usize = 512;

const FORBIDDEN_KEYS: [&str; 3] = ["__proto__", "constructor", "prototype"];

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidMetadata, message)
}

/// Accepts `null`/absent as an empty object; anything but an object is rejected.
pub fn sanitize_metadata(value: Option<Value>) -> Result<Map<String, Value>> {
    let map = match value {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(format!(
                "metadata must be a plain object, got {}",
                json_type(&other)
            )))
        }
    };
    check_keys(&map, 1, "metadata")?;
    let size = serde_json::to_string(&map)
        .map_err(|e| invalid(format!("metadata is not serialisable: {e}")))?
        .len();
    if size > MAX_METADATA_BYTES {
        return Err(invalid(format!(
            "metadata is {size} bytes as JSON (at most {MAX_METADATA_BYTES})"
        )));
    }
    Ok(map)
}

/// Plain JSON whose keys cannot reach a JavaScript prototype, nested at most
/// `MAX_METADATA_DEPTH` deep (the metadata rules, for other values); `what` names it.
pub fn check_plain(map: &Map<String, Value>, what: &str) -> Result<()> {
    check_keys(map, 1, what)
}

fn check_keys(map: &Map<String, Value>, depth: usize, path: &str) -> Result<()> {
    if depth > MAX_METADATA_DEPTH {
        return Err(invalid(format!(
            "metadata nests deeper than {MAX_METADATA_DEPTH} levels at {path}"
        )));
    }
    for (k, v) in map {
        if FORBIDDEN_KEYS.contains(&k.as_str()) {
            return Err(invalid(format!(
                "metadata key {} is not allowed (at {path})",
                crate::core::json::quote(k)
            )));
        }
        check_value(v, depth, &format!("{path}.{}", truncate_for_message(k)))?;
    }
    Ok(())
}

fn check_value(v: &Value, depth: usize, path: &str) -> Result<()> {
    match v {
        Value::Object(m) => check_keys(m, depth + 1, path),
        Value::Array(items) => {
            if depth + 1 > MAX_METADATA_DEPTH {
                return Err(invalid(format!(
                    "metadata nests deeper than {MAX_METADATA_DEPTH} levels at {path}"
                )));
            }
            items
                .iter()
                .try_for_each(|item| check_value(item, depth + 1, path))
        }
        _ => Ok(()),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A title is optional text of at most 512 characters without control characters.
pub fn validate_title(title: &str) -> Result<()> {
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::invalid_argument(format!(
            "title is longer than {MAX_TITLE_CHARS} characters"
        )));
    }
    if title.chars().any(char::is_control) {
        return Err(Error::invalid_argument(
            "title contains a control character",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn plain_objects_pass_unchanged() {
        let v = json!({"tier": "premium", "n": 1, "nested": {"list": [1, {"a": null}]}});
        let m = sanitize_metadata(Some(v.clone())).unwrap();
        assert_eq!(Value::Object(m), v);
    }

    #[test]
    fn null_and_absent_are_empty() {
        assert!(sanitize_metadata(None).unwrap().is_empty());
        assert!(sanitize_metadata(Some(Value::Null)).unwrap().is_empty());
    }

    #[test]
    fn non_objects_are_rejected() {
        for v in [json!(1), json!("s"), json!([1]), json!(true)] {
            assert_eq!(
                sanitize_metadata(Some(v)).unwrap_err().code,
                ErrorCode::InvalidMetadata
            );
        }
    }

    #[test]
    fn prototype_keys_are_rejected_at_any_depth() {
        let parsed: Value =
            serde_json::from_str(r#"{"a":{"b":[{"__proto__":{"polluted":true}}]}}"#).unwrap();
        let err = sanitize_metadata(Some(parsed)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidMetadata);
        assert!(err.message.contains("__proto__"));
        for key in ["constructor", "prototype", "__proto__"] {
            let v = json!({ key: 1 });
            assert!(sanitize_metadata(Some(v)).is_err(), "{key}");
        }
    }

    #[test]
    fn oversized_and_too_deep_metadata_is_rejected() {
        let big = json!({"blob": "x".repeat(MAX_METADATA_BYTES)});
        assert_eq!(
            sanitize_metadata(Some(big)).unwrap_err().code,
            ErrorCode::InvalidMetadata
        );
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!({ "d": deep });
        }
        assert_eq!(
            sanitize_metadata(Some(deep)).unwrap_err().code,
            ErrorCode::InvalidMetadata
        );
        let mut deep_array = json!(1);
        for _ in 0..40 {
            deep_array = json!([deep_array]);
        }
        let wrapped = json!({ "a": deep_array });
        assert!(sanitize_metadata(Some(wrapped)).is_err());
    }

    #[test]
    fn titles_are_bounded_and_printable() {
        validate_title("My chat").unwrap();
        assert!(validate_title(&"t".repeat(513)).is_err());
        assert!(validate_title("a\u{0}").is_err());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("__proto__".to_owned()),
            Just("constructor".to_owned()),
            Just("prototype".to_owned()),
            "[a-z_]{1,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z]{0,5}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn has_forbidden_key(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| FORBIDDEN_KEYS.contains(&k.as_str()) || has_forbidden_key(v)),
            Value::Array(a) => a.iter().any(has_forbidden_key),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn accepted_metadata_never_holds_a_prototype_key(v in arb_json()) {
            match sanitize_metadata(Some(v.clone())) {
                Ok(m) => {
                    prop_assert!(!has_forbidden_key(&Value::Object(m.clone())));
                    let expected = if v.is_null() { json!({}) } else { v };
                    prop_assert_eq!(Value::Object(m), expected);
                }
                Err(e) => {
                    prop_assert_eq!(e.code, ErrorCode::InvalidMetadata);
                    prop_assert!(!v.is_object() || has_forbidden_key(&v));
                }
            }
        }
    }
}
