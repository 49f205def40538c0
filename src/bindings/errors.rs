//! Core errors become real JavaScript `Error`s named `AgentSessionsError`, with a stable `code`
//! and, where they apply, `status`, `retryable`, `sessionId`, `retryAfterMs` and `cause`.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::{Error, ErrorCode};

pub const ERROR_NAME: &str = "AgentSessionsError";

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Reflect.set on a fresh Error object cannot fail; ignore the impossible error.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

pub fn to_js_error(e: &Error, cause: Option<&JsValue>) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name(ERROR_NAME);
    let v: JsValue = err.into();
    set(&v, "code", &JsValue::from_str(e.code.as_str()));
    set(&v, "retryable", &JsValue::from_bool(e.retryable));
    if let Some(status) = e.status {
        set(&v, "status", &JsValue::from_f64(status as f64));
    }
    if let Some(id) = &e.session_id {
        set(&v, "sessionId", &JsValue::from_str(id));
    }
    if let Some(ms) = e.retry_after_ms {
        set(&v, "retryAfterMs", &JsValue::from_f64(ms as f64));
    }
    if let Some(cause) = cause {
        set(&v, "cause", cause);
    }
    v
}

impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        to_js_error(&e, None)
    }
}

/// Wraps something JavaScript threw (a listener, a user handler, a host API) into our error,
/// keeping the original as `cause`.
pub fn wrap_js_error(code: ErrorCode, context: &str, thrown: JsValue) -> JsValue {
    if is_our_error(&thrown) {
        return thrown;
    }
    let detail = thrown
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "a non-Error value was thrown".to_owned());
    to_js_error(
        &Error::new(code, format!("{context}: {detail}")),
        Some(&thrown),
    )
}

/// What `new X()` throws for a class whose instances come from elsewhere: where to get one.
pub fn illegal_constructor(class: &str, instead: &str) -> JsValue {
    Error::new(
        ErrorCode::IllegalConstructor,
        format!("{class} has no public constructor: use {instead}"),
    )
    .into()
}

pub fn is_our_error(v: &JsValue) -> bool {
    v.dyn_ref::<js_sys::Error>()
        .is_some_and(|e| e.name() == ERROR_NAME)
}
