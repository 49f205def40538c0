//! Values cross the boundary as JSON: `JSON.stringify` in, serde in Rust, `JSON.parse` out. One
//! well-tested path for every DTO; `JSON.parse` creates a `__proto__` key as an own property, so
//! nothing that comes back out can reach a prototype.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use js_sys::{Array, Promise, Reflect, JSON};
use serde_json::Value;

use crate::core::record_read::FromValue;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::core::error::{Error, ErrorCode};

pub type JsResult<T> = Result<T, JsValue>;

pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsResult<JsValue> {
    parse_result(serde_json::to_string(value))
}

/// A history as JavaScript objects: core writes its JSON text in one pass
/// ([`messages_json`](crate::core::record_json::messages_json)), one `JSON.parse` reads it.
pub fn history_to_js(messages: &[crate::core::model::Message]) -> JsResult<JsValue> {
    JSON::parse(&crate::core::record_json::messages_json(messages))
}

/// One message as a JavaScript object, written as [`history_to_js`] writes each.
pub fn message_to_js(message: &crate::core::model::Message) -> JsResult<JsValue> {
    JSON::parse(&crate::core::record_json::message_json(message))
}

// The type-independent halves of `to_js`/`from_js`, kept out of their per-type copies.
#[inline(never)]
fn parse_result(text: serde_json::Result<String>) -> JsResult<JsValue> {
    let text = text.map_err(|e| Error::internal(format!("could not encode a result: {e}")))?;
    JSON::parse(&text)
}

/// Reads a JSON-shaped argument by hand (`FromValue`, over the one `Value` parser). `undefined`
/// reads as JSON `null`, so optional arguments read as their defaults.
pub fn from_js<T: FromValue>(value: &JsValue, what: &str, code: ErrorCode) -> JsResult<T> {
    let v = from_js_value(value, what, code)?;
    T::from_value(&v).map_err(|e| read_error(&e, what, code))
}

/// A JSON-shaped argument as its JSON value.
#[inline(never)]
pub fn from_js_value(value: &JsValue, what: &str, code: ErrorCode) -> JsResult<Value> {
    // An absent option (the common case) without a JSON round trip: it is `null` either way, and
    // a first call then runs (and the engine compiles) no JSON reader (bench/cold-start.md). In
    // the server runtimes' module only (`sql`): the storage-only module's budget has no room for
    // the check (bench/size.md).
    if cfg!(feature = "sql") && value.is_undefined() {
        return Ok(Value::Null);
    }
    let text = json_text(value, what, code)?;
    crate::core::json::parse(&text).map_err(|e| parse_error(e, what, code))
}

#[inline(never)]
fn read_error(e: &str, what: &str, code: ErrorCode) -> JsValue {
    Error::new(code, format!("{what}: {e}")).into()
}

#[inline(never)]
fn json_text(value: &JsValue, what: &str, code: ErrorCode) -> JsResult<String> {
    if value.is_undefined() {
        return Ok("null".to_owned());
    }
    match JSON::stringify(value) {
        Ok(s) => Ok(s.as_string().unwrap_or_else(|| "null".to_owned())),
        Err(thrown) => Err(super::errors::wrap_js_error(
            code,
            &format!("{what} could not be read as JSON"),
            thrown,
        )),
    }
}

#[inline(never)]
fn parse_error(e: crate::core::json::ParseError, what: &str, code: ErrorCode) -> JsValue {
    // The message without its position: the text it counts in is our own `JSON.stringify` of
    // the caller's object, which they never see.
    Error::new(code, format!("{what}: {}", e.message())).into()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn object_keys(value: &JsValue) -> Result<Array, JsValue>;
}

/// `value[key]` of a caller's object (`undefined` when `value` is absent); a getter or Proxy
/// trap that throws becomes an error with `code` and the thrown value as `cause`.
pub fn field(value: &JsValue, key: &str, what: &str, code: ErrorCode) -> JsResult<JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !value.is_object() {
        return Err(Error::new(code, format!("{what} must be an object")).into());
    }
    Reflect::get(value, &JsValue::from_str(key)).map_err(|thrown| {
        super::errors::wrap_js_error(
            code,
            &format!("reading {} of {what} threw", crate::core::json::quote(key)),
            thrown,
        )
    })
}

/// `Object.keys(value)` of a caller's object, a throwing Proxy trap reported as [`field`] does.
pub fn keys(value: &JsValue, what: &str, code: ErrorCode) -> JsResult<Vec<String>> {
    let keys = object_keys(value).map_err(|thrown| {
        super::errors::wrap_js_error(code, &format!("listing the keys of {what} threw"), thrown)
    })?;
    Ok(keys.iter().filter_map(|k| k.as_string()).collect())
}

/// Checks that `options.metadata` can be read as JSON, so that a throwing getter inside it is
/// `INVALID_METADATA` rather than a failure of the options around it.
pub fn readable_metadata(options: &JsValue, what: &str) -> JsResult<()> {
    if !options.is_object() {
        return Ok(());
    }
    let metadata = field(options, "metadata", what, ErrorCode::InvalidArgument)?;
    json_text(
        &metadata,
        &format!("{what}.metadata"),
        ErrorCode::InvalidMetadata,
    )
    .map(drop)
}

type BoxedResult = Pin<Box<dyn Future<Output = JsResult<JsValue>>>>;

thread_local! {
    /// Calls of [`promise`]/[`promise_now`] whose work has not finished: queued, waiting, or
    /// being polled right now. [`promise_now`] runs a call at once only when this is zero, so no
    /// call ever overtakes an earlier one (each runs its work in call order, as when every call
    /// is queued).
    static UNFINISHED: Cell<usize> = const { Cell::new(0) };
}

/// Counts a call as unfinished until dropped (also when its future is dropped unfinished).
struct Unfinished;

impl Unfinished {
    fn new() -> Unfinished {
        UNFINISHED.with(|n| n.set(n.get() + 1));
        Unfinished
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        UNFINISHED.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Runs a Rust future as a JavaScript Promise; errors reject with an `AgentSessionsError`.
pub fn promise<F>(fut: F) -> Promise
where
    F: Future<Output = JsResult<JsValue>> + 'static,
{
    // Boxed as one type, so the promise machinery is built once rather than once per method.
    queued(Box::pin(fut), Unfinished::new())
}

#[inline(never)]
fn queued(fut: BoxedResult, unfinished: Unfinished) -> Promise {
    future_to_promise(async move {
        let out = fut.await;
        drop(unfinished);
        out
    })
}

/// As [`promise`], but when no earlier call is unfinished the work starts now, in this call, and
/// a result that is complete at once (a synchronous store: memory, SQLite in Node or on a Durable
/// Object) comes back as an already settled promise, without a trip through the task queue.
/// Otherwise (an earlier call still running, or the work waits on I/O) the rest of it is queued
/// exactly as [`promise`] queues it. Listeners of the events it emits still run before the
/// promise settles; what changes is only that the work starts before the call returns.
pub fn promise_now<F>(fut: F) -> Promise
where
    F: Future<Output = JsResult<JsValue>> + 'static,
{
    now_or_queued(Box::pin(fut))
}

#[inline(never)]
fn now_or_queued(mut fut: BoxedResult) -> Promise {
    let unfinished = Unfinished::new();
    if UNFINISHED.with(Cell::get) == 1 {
        // Calls made by listeners during this poll see this one unfinished, so they queue.
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(value)) => return Promise::resolve(&value),
            Poll::Ready(Err(error)) => return Promise::reject(&error),
            // Every future polled again re-registers its waker (the executor's, now).
            Poll::Pending => {}
        }
    }
    queued(fut, unfinished)
}

/// Reads an optional string argument: `undefined`/`null` → `None`, a string → `Some`, anything
/// else → an error with `code`.
pub fn opt_string(value: &JsValue, what: &str, code: ErrorCode) -> JsResult<Option<String>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| Error::new(code, format!("{what} must be a string")).into())
}

pub fn string_arg(value: &JsValue, what: &str, code: ErrorCode) -> JsResult<String> {
    opt_string(value, what, code)?
        .ok_or_else(|| Error::new(code, format!("{what} is required")).into())
}

/// A function argument (a listener, a handler), or `INVALID_ARGUMENT` naming `what`.
pub fn require_function(value: JsValue, what: &str) -> JsResult<js_sys::Function> {
    use wasm_bindgen::JsCast;
    value
        .dyn_into::<js_sys::Function>()
        .map_err(|_| Error::invalid_argument(format!("{what} must be a function")).into())
}

/// `obj[key]` of a configuration object (a throwing getter is `INVALID_CONFIG` with its cause).
pub fn get(obj: &JsValue, key: &str) -> JsResult<JsValue> {
    field(obj, key, "the configuration", ErrorCode::InvalidConfig)
}

pub fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}
