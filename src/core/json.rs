//! One JSON reader for the whole crate. serde_json builds every deserializer once per kind of
//! input (`&str`, `&[u8]`); reading text as its bytes too keeps a single copy of each in the wasm.

use serde::Deserialize;

/// `serde_json::from_str`, through the byte reader. Same results: the text is valid UTF-8.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}
