//! Records read by hand out of a parsed JSON value, the reading half of
//! [`record_json`](super::record_json).
//!
//! serde's derive builds one visitor per type and per deserializer (kilobytes of wasm each); a
//! type here instead takes the one [`Value`] parser every type shares and reads its fields with
//! these few helpers. Its `Deserialize` is [`via_value`], so `serde_json::from_slice::<T>` and a
//! `T` nested in a derived type keep working, with serde's semantics for the shapes used:
//! an `Option` field is `None` when absent or `null`; a required field that is absent is
//! "missing field `name`"; numbers are checked like serde checks them (an integer field takes no
//! fraction); unknown fields are ignored.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// What went wrong, in serde's words where serde has them.
pub type ReadResult<T> = std::result::Result<T, String>;

/// A type read from a JSON value by hand.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> ReadResult<Self>;
}

/// `Deserialize::deserialize` for a [`FromValue`] type: the shared `Value` parser, then the
/// type's own reader.
pub fn via_value<'de, T: FromValue, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let value = Value::deserialize(d)?;
    T::from_value(&value).map_err(D::Error::custom)
}

/// `null` is `None`, as serde reads an `Option`.
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> ReadResult<Self> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A JSON array, each item read as a `T`; an error names the item's index.
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let Value::Array(items) = value else {
            return Err(format!("invalid type: {}, expected an array", kind(value)));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_value(item).map_err(|e| format!("[{i}]: {e}")))
            .collect()
    }
}

/// The fields of a JSON object.
pub struct Fields<'a>(&'a Map<String, Value>);

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

fn invalid(key: &str, v: &Value, expected: &str) -> String {
    format!("invalid type: {} for `{key}`, expected {expected}", kind(v))
}

impl<'a> Fields<'a> {
    /// `value` as an object; `what` names it in the error otherwise.
    pub fn of(value: &'a Value, what: &str) -> ReadResult<Fields<'a>> {
        match value {
            Value::Object(map) => Ok(Fields(map)),
            other => Err(format!("invalid type: {}, expected {what}", kind(other))),
        }
    }

    /// serde's `deny_unknown_fields`, with its message: `expected` are the names it lists,
    /// `aliases` more names it accepts without listing them.
    pub fn only(&self, expected: &[&str], aliases: &[&str]) -> ReadResult<()> {
        let Some(key) = self
            .0
            .keys()
            .find(|k| !expected.contains(&k.as_str()) && !aliases.contains(&k.as_str()))
        else {
            return Ok(());
        };
        let names: Vec<String> = expected.iter().map(|n| format!("`{n}`")).collect();
        let listed = match names.as_slice() {
            [] => "there are no fields".to_owned(),
            [one] => format!("expected {one}"),
            [a, b] => format!("expected {a} or {b}"),
            _ => format!("expected one of {}", names.join(", ")),
        };
        Err(format!("unknown field `{key}`, {listed}"))
    }

    pub fn opt_bool(&self, key: &str) -> ReadResult<Option<bool>> {
        self.get(key)
            .map(|v| v.as_bool().ok_or_else(|| invalid(key, v, "a boolean")))
            .transpose()
    }

    /// The field as it is (a JSON value), `None` when absent or `null`.
    pub fn opt_value(&self, key: &str) -> Option<Value> {
        self.get(key).cloned()
    }

    /// Whether the field is there at all, even as `null`.
    pub fn present(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The field, `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &str) -> ReadResult<&'a Value> {
        self.0
            .get(key)
            .ok_or_else(|| format!("missing field `{key}`"))
    }

    pub fn string(&self, key: &str) -> ReadResult<String> {
        let v = self.required(key)?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| invalid(key, v, "a string"))
    }

    pub fn opt_string(&self, key: &str) -> ReadResult<Option<String>> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(key, v, "a string"))
            })
            .transpose()
    }

    pub fn number(&self, key: &str) -> ReadResult<f64> {
        let v = self.required(key)?;
        v.as_f64().ok_or_else(|| invalid(key, v, "a number"))
    }

    pub fn opt_number(&self, key: &str) -> ReadResult<Option<f64>> {
        self.get(key)
            .map(|v| v.as_f64().ok_or_else(|| invalid(key, v, "a number")))
            .transpose()
    }

    /// A whole non-negative number (serde's `u64`: no fraction, no sign).
    pub fn opt_count(&self, key: &str) -> ReadResult<Option<u64>> {
        self.get(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| invalid(key, v, "a non-negative integer"))
            })
            .transpose()
    }

    pub fn count(&self, key: &str) -> ReadResult<u64> {
        let v = self.required(key)?;
        v.as_u64()
            .ok_or_else(|| invalid(key, v, "a non-negative integer"))
    }

    /// A `u32` count, as serde reads one (out of range is an error, not a wrap).
    pub fn count32(&self, key: &str) -> ReadResult<u32> {
        let n = self.count(key)?;
        u32::try_from(n).map_err(|_| format!("invalid value: {n} for `{key}`, expected a u32"))
    }

    pub fn opt_count32(&self, key: &str) -> ReadResult<Option<u32>> {
        match self.opt_count(key)? {
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| format!("invalid value: {n} for `{key}`, expected a u32")),
            None => Ok(None),
        }
    }

    pub fn strings(&self, key: &str) -> ReadResult<Vec<String>> {
        let v = self.required(key)?;
        let items = v
            .as_array()
            .ok_or_else(|| invalid(key, v, "an array of strings"))?;
        items
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(key, s, "a string"))
            })
            .collect()
    }

    /// A nested [`FromValue`] field, `None` when absent or `null`.
    pub fn opt<T: FromValue>(&self, key: &str) -> ReadResult<Option<T>> {
        self.get(key).map(T::from_value).transpose()
    }

    /// A nested [`FromValue`] field that must be there.
    pub fn nested<T: FromValue>(&self, key: &str) -> ReadResult<T> {
        T::from_value(self.required(key)?)
    }

    /// An array of [`FromValue`] items that must be there.
    pub fn list<T: FromValue>(&self, key: &str) -> ReadResult<Vec<T>> {
        let v = self.required(key)?;
        read_list(key, v)
    }

    /// An array of [`FromValue`] items, empty when absent (serde's `#[serde(default)]`: `null`
    /// is not an array).
    pub fn list_or_empty<T: FromValue>(&self, key: &str) -> ReadResult<Vec<T>> {
        match self.0.get(key) {
            Some(v) => read_list(key, v),
            None => Ok(Vec::new()),
        }
    }

    /// An object field (free-form JSON), `None` when absent or `null`.
    pub fn opt_object(&self, key: &str) -> ReadResult<Option<Map<String, Value>>> {
        self.get(key)
            .map(|v| {
                v.as_object()
                    .cloned()
                    .ok_or_else(|| invalid(key, v, "an object"))
            })
            .transpose()
    }

    /// An object field, empty when absent (serde's `#[serde(default)]`: `null` is not a map).
    pub fn object_or_empty(&self, key: &str) -> ReadResult<Map<String, Value>> {
        match self.0.get(key) {
            Some(v) => v
                .as_object()
                .cloned()
                .ok_or_else(|| invalid(key, v, "an object")),
            None => Ok(Map::new()),
        }
    }

    /// A lowercase enum spelled as a string, `None` when absent or `null`.
    pub fn opt_word<T>(&self, key: &str, parse: fn(&str) -> Option<T>) -> ReadResult<Option<T>> {
        match self.get(key) {
            Some(_) => self.word(key, parse).map(Some),
            None => Ok(None),
        }
    }

    /// An optional `u32` count under its name or an alias (serde's `#[serde(alias)]`).
    pub fn alias_count32(&self, key: &str, alias: &str) -> ReadResult<Option<u32>> {
        match self.opt_count32(key)? {
            Some(n) => Ok(Some(n)),
            None => self.opt_count32(alias),
        }
    }

    /// An object of strings (`headers`) as pairs in key order, `None` when absent or `null`.
    pub fn opt_string_pairs(&self, key: &str) -> ReadResult<Option<Vec<(String, String)>>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let map = v.as_object().ok_or_else(|| invalid(key, v, "an object"))?;
        map.iter()
            .map(|(k, item)| {
                item.as_str()
                    .map(|s| (k.clone(), s.to_owned()))
                    .ok_or_else(|| invalid(k, item, "a string"))
            })
            .collect::<ReadResult<_>>()
            .map(Some)
    }

    /// A lowercase enum spelled as a string: `parse` maps the known words.
    pub fn word<T>(&self, key: &str, parse: fn(&str) -> Option<T>) -> ReadResult<T> {
        let v = self.required(key)?;
        let s = v.as_str().ok_or_else(|| invalid(key, v, "a string"))?;
        parse(s).ok_or_else(|| format!("unknown variant `{s}` for `{key}`"))
    }
}

fn read_list<T: FromValue>(key: &str, v: &Value) -> ReadResult<Vec<T>> {
    v.as_array()
        .ok_or_else(|| invalid(key, v, "an array"))?
        .iter()
        .map(T::from_value)
        .collect()
}

/// `Deserialize` for types that implement [`FromValue`]: serde's entry points (and derived types
/// holding them) reach the hand reader.
#[macro_export]
macro_rules! deserialize_via_value {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::core::record_read::via_value(d)
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Run, RunStatus, Summary, Usage};

    fn run_json() -> Value {
        serde_json::json!({
            "id": "run_1", "sessionId": "s", "status": "completed", "createdAt": 1.5,
            "startedAt": 2.0, "endedAt": null, "durationMs": 3.25, "attempts": 2,
            "usage": { "inputTokens": 1, "outputTokens": 2, "totalTokens": 3 },
            "model": "m", "errorCode": "X", "estimatedInputTokens": 7, "unknown": true
        })
    }

    #[test]
    fn a_run_reads_back_what_it_writes_and_ignores_unknown_fields() {
        let run: Run = serde_json::from_value(run_json()).unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.started_at, Some(2.0));
        assert_eq!(run.ended_at, None);
        assert_eq!(
            run.usage,
            Usage {
                input_tokens: 1,
                output_tokens: 2,
                total_tokens: 3
            }
        );
        assert_eq!(run.estimated_input_tokens, Some(7));
        let text = serde_json::to_string(&run).unwrap();
        let again: Run = crate::core::json::from_str(&text).unwrap();
        assert_eq!(again, run);
    }

    #[test]
    fn defaults_and_errors_are_serdes() {
        let minimal =
            serde_json::json!({ "id": "r", "sessionId": "s", "status": "pending", "createdAt": 0 });
        let run: Run = serde_json::from_value(minimal).unwrap();
        assert_eq!(
            (run.attempts, run.usage, run.agent),
            (0, Usage::default(), None)
        );
        let missing = serde_json::from_value::<Run>(serde_json::json!({ "id": "r" })).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `sessionId`"),
            "{missing}"
        );
        let mut bad = run_json();
        bad["attempts"] = serde_json::json!(1.5);
        assert!(serde_json::from_value::<Run>(bad).is_err());
        let mut bad = run_json();
        bad["status"] = serde_json::json!("done");
        let e = serde_json::from_value::<Run>(bad).unwrap_err().to_string();
        assert!(e.contains("unknown variant `done`"), "{e}");
        assert!(serde_json::from_value::<Run>(serde_json::json!([1])).is_err());
    }

    #[test]
    fn only_words_unknown_fields_as_serde_does() {
        let v = serde_json::json!({ "a": 1, "zz": 2 });
        let f = Fields::of(&v, "x").unwrap();
        assert_eq!(
            f.only(&["a", "b", "c"], &[]).unwrap_err(),
            "unknown field `zz`, expected one of `a`, `b`, `c`"
        );
        assert_eq!(
            f.only(&["a", "b"], &[]).unwrap_err(),
            "unknown field `zz`, expected `a` or `b`"
        );
        assert_eq!(
            f.only(&["a"], &[]).unwrap_err(),
            "unknown field `zz`, expected `a`"
        );
        assert_eq!(f.only(&["a"], &["zz"]), Ok(()));
    }

    #[test]
    fn a_summary_reads_back_what_it_writes() {
        let s = Summary {
            id: "sum_1".into(),
            session_id: "s".into(),
            content: "c".into(),
            covers: vec!["a".into(), "b".into()],
            rolls_up: Some("sum_0".into()),
            through_seq: 9,
            tokens: 4,
            model: None,
            created_at: 5.0,
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(crate::core::json::from_str::<Summary>(&text).unwrap(), s);
        let e = crate::core::json::from_str::<Summary>(r#"{"id":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
    }

    #[test]
    fn a_message_fills_its_defaults_and_reads_back_what_it_writes() {
        use crate::core::model::{Message, MessageStatus, Role};
        let minimal = serde_json::json!({
            "id": "m", "sessionId": "s", "seq": 4, "role": "tool", "content": "c",
            "createdAt": 1.5, "extra": [1]
        });
        let m: Message = serde_json::from_value(minimal).unwrap();
        assert_eq!(
            (m.role, m.status, m.tokens, m.tool_calls.len()),
            (Role::Tool, MessageStatus::Complete, 0, 0)
        );
        let mut full = m.clone();
        full.status = MessageStatus::Interrupted;
        full.tool_calls = vec![crate::core::model::ToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: "{}".into(),
        }];
        full.metadata = Some(serde_json::Map::from_iter([("k".into(), 1.into())]));
        full.name = Some("n".into());
        let text = crate::core::record_json::message_json(&full);
        assert_eq!(crate::core::json::from_str::<Message>(&text).unwrap(), full);
        let bad = serde_json::json!({ "id": "m", "sessionId": "s", "seq": 1, "role": "robot",
            "content": "c", "createdAt": 1 });
        let e = serde_json::from_value::<Message>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `robot`"), "{e}");
        let bad = serde_json::json!({ "id": "m", "sessionId": "s", "seq": -1, "role": "user",
            "content": "c", "createdAt": 1 });
        assert!(serde_json::from_value::<Message>(bad).is_err());
    }

    #[test]
    fn a_bundle_refuses_unknown_fields_as_serde_did() {
        let bundle = serde_json::json!({
            "format": "agent-sessions/session", "version": 1, "exportedAt": 1,
            "session": { "id": "s", "createdAt": 1, "updatedAt": 1, "titel": "x" },
            "messages": []
        });
        let e = serde_json::from_value::<crate::core::bundle::Bundle>(bundle)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("unknown field `titel`, expected one of `id`, `title`"),
            "{e}"
        );
    }
}
