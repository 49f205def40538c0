//! What a host storage API threw, as one of our storage errors: a full quota is
//! `STORAGE_QUOTA`, a refused or missing store `STORAGE_UNAVAILABLE`, anything else
//! `STORAGE_ERROR` with the host's own name and message.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::core::error::{Error, ErrorCode};

/// The `name` of a thrown `DOMException`/`Error`, or of an event target's `error`.
pub fn error_name(thrown: &JsValue) -> String {
    let name = |v: &JsValue| {
        Reflect::get(v, &JsValue::from_str("name"))
            .ok()
            .and_then(|n| n.as_string())
    };
    name(thrown).unwrap_or_default()
}

fn error_message(thrown: &JsValue) -> String {
    Reflect::get(thrown, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "no details".to_owned())
}

pub fn is_quota_error(thrown: &JsValue) -> bool {
    let name = error_name(thrown);
    let code = Reflect::get(thrown, &JsValue::from_str("code"))
        .ok()
        .and_then(|c| c.as_f64());
    // Firefox before 2020 named it NS_ERROR_DOM_QUOTA_REACHED (code 1014); the standard code is 22.
    name == "QuotaExceededError"
        || name == "NS_ERROR_DOM_QUOTA_REACHED"
        || code == Some(22.0)
        || code == Some(1014.0)
}

/// Classifies `thrown` from the store named `what` (e.g. `IndexedDB "agent-sessions"`).
pub fn storage_error(what: &str, thrown: &JsValue) -> Error {
    let name = error_name(thrown);
    let message = error_message(thrown);
    if is_quota_error(thrown) {
        return Error::new(
            ErrorCode::StorageQuota,
            format!(
                "{what} is full ({name}: {message}); earlier data is intact — free space \
                 (delete sessions) and try again"
            ),
        );
    }
    let code = match name.as_str() {
        "SecurityError" => ErrorCode::StorageUnavailable,
        _ => ErrorCode::Storage,
    };
    let label = if name.is_empty() { "error" } else { &name };
    Error::new(code, format!("{what} failed ({label}: {message})"))
}

pub fn unavailable(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::StorageUnavailable, message)
}
