//! `session.addMessage` of a plain `{ role, content }` message without the general argument path
//! (`JSON.stringify` of the object, a copy, serde): one call into `append.js` reads it.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::core::model::NewMessage;

#[wasm_bindgen(module = "/src/bindings/append.js")]
extern "C" {
    #[wasm_bindgen(js_name = plainMessage)]
    fn plain_message(message: &JsValue) -> Option<String>;
}

/// The message a plain `{ role, content }` object is, exactly as serde reads it from the
/// object's JSON; `None` for anything else (which the general path then reads).
pub fn plain(message: &JsValue) -> Option<NewMessage> {
    let text = plain_message(message)?;
    let role = match text.as_bytes().first()? {
        b's' => "system",
        b'u' => "user",
        b'a' => "assistant",
        b't' => "tool",
        _ => return None,
    };
    Some(NewMessage {
        role: role.to_owned(),
        content: Some(Value::String(text[1..].to_owned())),
        ..NewMessage::default()
    })
}
