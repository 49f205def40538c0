//! One JSON reader for the whole crate ([`parse`], `reader.rs`: text to a `serde_json::Value`,
//! serde_json's own results without its `Deserializer`), and the small helpers around it.

use serde::Serialize;
use serde_json::Value;

mod reader;
pub use reader::{parse_pruned, ParseError, Prune};

/// `text` as one JSON value: what `serde_json::from_str::<Value>` gives, errors included.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    reader::parse(text.as_bytes())
}

/// `bytes` as one JSON value (a body off the network: not necessarily UTF-8).
pub fn parse_bytes(bytes: &[u8]) -> Result<Value, ParseError> {
    reader::parse(bytes)
}

/// `serde_json::from_str`, for tests of types that still derive `Deserialize`.
#[cfg(test)]
pub fn from_str<'a, T: serde::Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}

/// `text` in double quotes, for naming a value in a message: `"`, `\\`, line breaks and tabs
/// escaped as in JSON, and every other control character (C0, DEL, C1) and the invisible ones
/// that would reorder or hide text in a console or a log (bidirectional controls, zero-width
/// characters, line and paragraph separators, the byte order mark) as Rust's `{:?}` wrote them
/// (`\u{85}`). Messages never use `{:?}` itself: the wasm modules are built with
/// `-Zfmt-debug=none` (Debug formatting compiled out, ~2.8 KB gzip), and the lint stage keeps it
/// out of non-test code (scripts/no-debug-format.mjs, `clippy::use_debug`).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        let short = match c {
            '"' | '\\' => c,
            '\n' => 'n',
            '\r' => 'r',
            '\t' => 't',
            c if c.is_control() || invisible(c) => {
                push_code(&mut out, c);
                continue;
            }
            c => {
                out.push(c);
                continue;
            }
        };
        out.push('\\');
        out.push(short);
    }
    out.push('"');
    out
}

fn invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// `\u{hex}`, digits by hand (no formatter for one rare escape).
fn push_code(out: &mut String, c: char) {
    out.push_str("\\u{");
    let n = c as u32;
    let digits = (32 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(char::from_digit((n >> (i * 4)) & 0xf, 16).unwrap_or('0'));
    }
    out.push('}');
}

/// A JSON object of one entry. `insert` into a new map, not `Map::from_iter`/`collect`: a map's
/// bulk build sorts its input and rebalances (~2 KB of wasm) for what is one key.
pub fn object1(key: &str, value: Value) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert(key.to_owned(), value);
    map
}

/// `text` parsed as JSON and read by hand as a `T` (`core/record_read.rs`): the one `Value`
/// parser for every type, and no serde glue per type (a typed `from_slice::<T>` instantiates
/// serde's entry points for each `T`: ~0.5 KB of wasm a type). The error is the parser's or the
/// reader's message.
pub fn read<T: crate::core::record_read::FromValue>(text: &str) -> Result<T, String> {
    let value = parse(text).map_err(|e| e.to_string())?;
    T::from_value(&value)
}

/// `v`'s JSON text, through serde_json's writer into a buffer: what `v.to_string()` gives, without
/// `Value`'s `Display`, which links a second copy of the writer for a formatter target, and a
/// third for `{:#}`'s pretty form (~2 KB of wasm).
pub fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `x` as a JSON value, through its text: `serde_json::to_value` (and `json!` with a typed
/// value inside) builds one more serializer per type in the wasm, while the text writer and the
/// `Value` parser are there anyway. A value serde cannot write is `null`, as `json!` makes it.
pub fn value_of<T: Serialize + ?Sized>(x: &T) -> Value {
    serde_json::to_string(x)
        .ok()
        .and_then(|text| parse(&text).ok())
        .unwrap_or(Value::Null)
}

/// A JavaScript number that must be a whole count (`limit`, `maxTokens`, ...): `None` stays
/// `None`; a fraction, a negative or a non-finite number is an `INVALID_ARGUMENT` naming `what`.
/// Counts beyond `u32::MAX` are held there: no store or context is that long.
pub fn whole_number(value: Option<f64>, what: &str) -> crate::core::error::Result<Option<usize>> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0) => {
            Err(crate::core::error::Error::invalid_argument(format!(
                "{what} must be a non-negative integer"
            )))
        }
        Some(v) => Ok(Some(v.min(u32::MAX as f64) as usize)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quote_escapes_what_would_break_or_hide_a_message() {
        assert_eq!(quote("abc"), r#""abc""#);
        assert_eq!(quote("é 中 🙂"), "\"é 中 🙂\"");
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(
            quote("\u{0}\u{1f}\u{7f}\u{85}"),
            r#""\u{0}\u{1f}\u{7f}\u{85}""#
        );
        assert_eq!(
            quote("x\u{202e}y\u{200b}\u{2028}\u{feff}"),
            r#""x\u{202e}y\u{200b}\u{2028}\u{feff}""#
        );
        // What Rust's Debug wrote for the same, wherever both escape.
        for s in ["plain", "a\"b", "\u{1}", "\u{85}", "\u{202e}", "tab\t"] {
            assert_eq!(quote(s), format!("{s:?}"));
        }
    }
}
