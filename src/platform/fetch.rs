//! [`HttpClient`] over the host's `fetch`: the global one (looked up on `globalThis` at call
//! time, so it works in a page, a web worker, Node ≥ 18 and workerd) or one the caller injects
//! (a Cloudflare service binding's `fetch`, a test double, a proxy).
//!
//! Each request gets its own `AbortController`, owned by a guard that aborts the request when the
//! pending send future or the response body is dropped before the body was read to the end.
//! Everything coming back from JavaScript is checked: nothing here panics.

use std::cell::RefCell;

use async_trait::async_trait;
use js_sys::{Array, ArrayBuffer, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::wake::function_property;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::io::{ByteStream, HttpClient, HttpResponse};
use crate::core::llm::HttpRequest;

/// The response headers handed to the engine (lower-cased names).
const KEPT_HEADERS: [&str; 5] = [
    "content-type",
    "retry-after",
    "retry-after-ms",
    "x-request-id",
    "request-id",
];

/// An HTTP client that calls `fetch`.
#[derive(Clone, Default)]
pub struct FetchClient {
    fetch: Option<Function>,
}

impl FetchClient {
    /// `custom_fetch` replaces the global `fetch`; it is called as `fetch(url, init)` with
    /// `init = { method, headers, body?, signal? }` (`headers` a plain object of lower-cased
    /// names) and must return a `Response` or a promise of one.
    pub fn new(custom_fetch: Option<Function>) -> Self {
        FetchClient {
            fetch: custom_fetch,
        }
    }

    /// The function to call and the `this` to call it with.
    fn resolve_fetch(&self) -> Result<(Function, JsValue)> {
        if let Some(f) = &self.fetch {
            return Ok((f.clone(), JsValue::UNDEFINED));
        }
        let global: JsValue = js_sys::global().into();
        match Reflect::get(&global, &JsValue::from_str("fetch")) {
            Ok(f) if f.is_function() => Ok((f.unchecked_into(), global)),
            _ => Err(Error::new(
                ErrorCode::LlmNetwork,
                "no fetch function in this JavaScript runtime: pass one in the configuration \
                 (fetch) or use a runtime with a global fetch (Node >= 18)",
            )),
        }
    }
}

#[async_trait(?Send)]
impl HttpClient for FetchClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let (fetch, this) = self.resolve_fetch()?;
        // Created before the call so that dropping this future (at any await) aborts it.
        let guard = AbortGuard::new();
        let init = request_init(&request, guard.signal())?;

        let returned = fetch
            .call2(&this, &JsValue::from_str(&request.url), &init)
            .map_err(network_error)?;
        // A custom fetch may return a Response directly; Promise.resolve takes both.
        let response = JsFuture::from(Promise::resolve(&returned))
            .await
            .map_err(network_error)?;

        if !response.is_object() {
            return Err(Error::new(
                ErrorCode::LlmBadResponse,
                "fetch resolved to something that is not a Response",
            ));
        }
        let status = Reflect::get(&response, &JsValue::from_str("status"))
            .ok()
            .and_then(|s| s.as_f64())
            .filter(|s| s.fract() == 0.0 && (0.0..=999.0).contains(s))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::LlmBadResponse,
                    "fetch resolved to a Response without a valid status",
                )
            })? as u16;
        let headers = kept_headers(&response);
        let body = FetchBody::new(&response, guard);
        Ok(HttpResponse {
            status,
            headers,
            body: Box::new(body),
        })
    }
}

/// `{ method, headers, body, signal }`. Header names are lower-cased (HTTP names are
/// case-insensitive and fetch lower-cases them anyway); a repeated name is joined with `, `.
fn request_init(request: &HttpRequest, signal: Option<JsValue>) -> Result<JsValue> {
    let init = Object::new();
    let headers = Object::new();
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => merged.push((name, value.clone())),
        }
    }
    for (name, value) in &merged {
        if name == "__proto__" {
            // Would set the prototype of the plain object instead of a header; no real header
            // has this name.
            continue;
        }
        set(&headers, name, &JsValue::from_str(value))?;
    }
    set(&init, "method", &JsValue::from_str(request.method))?;
    set(&init, "headers", &headers)?;
    let bodyless =
        request.method.eq_ignore_ascii_case("GET") || request.method.eq_ignore_ascii_case("HEAD");
    if !(bodyless && request.body.is_empty()) {
        set(&init, "body", &JsValue::from_str(&request.body))?;
    }
    if let Some(signal) = signal {
        set(&init, "signal", &signal)?;
    }
    Ok(init.into())
}

fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<()> {
    Reflect::set(target, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|e| {
            Error::internal(format!(
                "cannot build the fetch request: {}",
                js_error_message(&e)
            ))
        })
}

/// The few headers the engine reads, from a `Headers` (`get`) or, for a hand-made response, a
/// plain object.
fn kept_headers(response: &JsValue) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(headers) = Reflect::get(response, &JsValue::from_str("headers")) else {
        return out;
    };
    if !headers.is_object() {
        return out;
    }
    let get = Reflect::get(&headers, &JsValue::from_str("get"))
        .ok()
        .filter(JsValue::is_function)
        .map(JsCast::unchecked_into::<Function>);
    for name in KEPT_HEADERS {
        let value = match &get {
            Some(get) => get.call1(&headers, &JsValue::from_str(name)).ok(),
            None => Reflect::get(&headers, &JsValue::from_str(name)).ok(),
        };
        if let Some(value) = value.and_then(|v| v.as_string()) {
            out.push((name.to_owned(), value));
        }
    }
    out
}

/// Owns the request's `AbortController`; aborts on drop unless disarmed (body fully read).
struct AbortGuard {
    controller: Option<JsValue>,
    armed: bool,
}

impl AbortGuard {
    /// A fresh controller from the global `AbortController`; without one (no known runtime
    /// lacks it) requests simply cannot be aborted.
    fn new() -> Self {
        let global: JsValue = js_sys::global().into();
        let controller = Reflect::get(&global, &JsValue::from_str("AbortController"))
            .ok()
            .filter(JsValue::is_function)
            .and_then(|ctor| {
                Reflect::construct(ctor.unchecked_ref::<Function>(), &Array::new()).ok()
            })
            .filter(JsValue::is_object);
        AbortGuard {
            controller,
            armed: true,
        }
    }

    fn signal(&self) -> Option<JsValue> {
        let controller = self.controller.as_ref()?;
        Reflect::get(controller, &JsValue::from_str("signal"))
            .ok()
            .filter(JsValue::is_object)
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(controller) = &self.controller {
            // abort() on a finished request or an already aborted controller is a no-op; a
            // throwing polyfill is ignored.
            if let Ok(abort) = Reflect::get(controller, &JsValue::from_str("abort")) {
                if let Some(abort) = abort.dyn_ref::<Function>() {
                    let _ = abort.call0(controller);
                }
            }
        }
    }
}

enum BodyState {
    /// `response.body.getReader()`.
    Reader(JsValue),
    /// No stream (`response.body` is null): `response.arrayBuffer()` once.
    Whole(JsValue),
    Done,
    Failed(Error),
}

/// The streamed response body.
struct FetchBody {
    state: BodyState,
    guard: AbortGuard,
}

impl FetchBody {
    fn new(response: &JsValue, guard: AbortGuard) -> Self {
        let reader = Reflect::get(response, &JsValue::from_str("body"))
            .ok()
            .filter(JsValue::is_object)
            .and_then(|body| {
                let get_reader = Reflect::get(&body, &JsValue::from_str("getReader")).ok()?;
                let get_reader = get_reader.dyn_ref::<Function>()?;
                get_reader.call0(&body).ok().filter(JsValue::is_object)
            });
        let state = match reader {
            Some(reader) => BodyState::Reader(reader),
            None => BodyState::Whole(response.clone()),
        };
        FetchBody { state, guard }
    }

    fn finish(&mut self) {
        self.state = BodyState::Done;
        self.guard.disarm();
    }

    fn fail(&mut self, error: Error) -> Error {
        self.state = BodyState::Failed(error.clone());
        error
    }

    async fn read_chunk(reader: &JsValue) -> Result<Option<Vec<u8>>> {
        let read = Reflect::get(reader, &JsValue::from_str("read")).map_err(body_error)?;
        let read = read.dyn_ref::<Function>().ok_or_else(|| {
            Error::new(
                ErrorCode::LlmNetwork,
                "the response body reader has no read()",
            )
        })?;
        let promise = read.call0(reader).map_err(body_error)?;
        let result = JsFuture::from(Promise::resolve(&promise))
            .await
            .map_err(body_error)?;
        if !result.is_object() {
            return Err(Error::new(
                ErrorCode::LlmNetwork,
                "the response body reader returned a malformed result",
            ));
        }
        let done = Reflect::get(&result, &JsValue::from_str("done"))
            .map(|d| d.is_truthy())
            .unwrap_or(false);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&result, &JsValue::from_str("value")).map_err(body_error)?;
        bytes_of(&value).map(Some)
    }

    async fn read_whole(response: &JsValue) -> Result<Vec<u8>> {
        let Some(array_buffer) = function_property(response, "arrayBuffer") else {
            // A hand-made response with neither a stream nor arrayBuffer(): an empty body.
            return Ok(Vec::new());
        };
        let promise = array_buffer.call0(response).map_err(body_error)?;
        let value = JsFuture::from(Promise::resolve(&promise))
            .await
            .map_err(body_error)?;
        bytes_of(&value)
    }
}

#[async_trait(?Send)]
impl ByteStream for FetchBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            match &self.state {
                BodyState::Done => return Ok(None),
                BodyState::Failed(e) => return Err(e.clone()),
                BodyState::Reader(reader) => {
                    let reader = reader.clone();
                    match Self::read_chunk(&reader).await {
                        Ok(None) => {
                            self.finish();
                            return Ok(None);
                        }
                        // Some streams deliver empty chunks; they carry nothing.
                        Ok(Some(chunk)) if chunk.is_empty() => continue,
                        Ok(Some(chunk)) => return Ok(Some(chunk)),
                        Err(e) => return Err(self.fail(e)),
                    }
                }
                BodyState::Whole(response) => {
                    let response = response.clone();
                    match Self::read_whole(&response).await {
                        Ok(bytes) => {
                            self.finish();
                            return Ok(if bytes.is_empty() { None } else { Some(bytes) });
                        }
                        Err(e) => return Err(self.fail(e)),
                    }
                }
            }
        }
    }
}

impl Drop for FetchBody {
    fn drop(&mut self) {
        // Dropped mid-stream: besides the abort (the guard, dropped next), cancel the reader so
        // that a stream a custom fetch made without honouring the signal is released too.
        if let BodyState::Reader(reader) = &self.state {
            if let Ok(cancel) = Reflect::get(reader, &JsValue::from_str("cancel")) {
                if let Some(cancel) = cancel.dyn_ref::<Function>() {
                    if let Ok(p) = cancel.call0(reader) {
                        ignore_rejection(&p);
                    }
                }
            }
        }
    }
}

type RejectionHandler = Closure<dyn FnMut(JsValue)>;

thread_local! {
    /// One no-op rejection handler for the whole instance (never freed, never re-created).
    static IGNORE: RefCell<Option<RejectionHandler>> = const { RefCell::new(None) };
}

/// Marks a promise's rejection as handled, so that Node does not treat a cancelled stream's
/// rejection as an unhandled one (which kills the process by default).
fn ignore_rejection(value: &JsValue) {
    let Some(promise) = value.dyn_ref::<Promise>() else {
        return;
    };
    IGNORE.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return;
        };
        let handler = slot
            .get_or_insert_with(|| Closure::<dyn FnMut(JsValue)>::own_assert_unwind_safe(|_| {}));
        let _ = promise.catch(handler);
    });
}

/// A chunk as bytes: a `Uint8Array` (or subclass, e.g. Node's `Buffer`), another typed array or
/// `DataView`, or an `ArrayBuffer`.
fn bytes_of(value: &JsValue) -> Result<Vec<u8>> {
    if let Some(u8s) = value.dyn_ref::<Uint8Array>() {
        return Ok(u8s.to_vec());
    }
    if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    if ArrayBuffer::is_view(value) {
        let field = |k: &str| Reflect::get(value, &JsValue::from_str(k)).ok();
        if let (Some(buffer), Some(offset), Some(length)) = (
            field("buffer"),
            field("byteOffset").and_then(|v| v.as_f64()),
            field("byteLength").and_then(|v| v.as_f64()),
        ) {
            if let Some(buffer) = buffer.dyn_ref::<ArrayBuffer>() {
                return Ok(Uint8Array::new_with_byte_offset_and_length(
                    buffer,
                    offset as u32,
                    length as u32,
                )
                .to_vec());
            }
        }
    }
    if value.is_undefined() {
        // `{ done: false, value: undefined }` does not happen with real streams; treat as empty.
        return Ok(Vec::new());
    }
    Err(Error::new(
        ErrorCode::LlmNetwork,
        "the response body produced a chunk that is not bytes",
    ))
}

/// A failed or rejected `fetch`: retryable, with the JS error's message.
fn network_error(e: JsValue) -> Error {
    Error::new(
        ErrorCode::LlmNetwork,
        format!("network error: {}", js_error_message(&e)),
    )
    .with_retryable(true)
}

/// A failure while reading the body; the engine decides whether to retry.
fn body_error(e: JsValue) -> Error {
    Error::new(
        ErrorCode::LlmNetwork,
        format!("error reading the response body: {}", js_error_message(&e)),
    )
}

/// `message` of an Error (plus its `cause`'s, which is where Node's "fetch failed" puts the
/// real reason), a string as is, an Error without a message by its name, anything else as JSON
/// (or its type). Never throws.
pub(crate) fn js_error_message(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    if e.is_object() {
        let get = |v: &JsValue, k: &str| {
            Reflect::get(v, &JsValue::from_str(k))
                .ok()
                .and_then(|m| m.as_string())
                .filter(|m| !m.is_empty())
        };
        if let Some(message) = get(e, "message") {
            let name = get(e, "name");
            let mut out = match name {
                Some(name) if name != "Error" => format!("{name}: {message}"),
                _ => message,
            };
            if let Ok(cause) = Reflect::get(e, &JsValue::from_str("cause")) {
                let detail = cause
                    .as_string()
                    .or_else(|| cause.is_object().then(|| get(&cause, "message")).flatten());
                if let Some(detail) = detail {
                    out.push_str(&format!(" ({detail})"));
                }
            }
            return out;
        }
        // An Error without a message (`new TypeError("")`) is named by its kind.
        if let Some(name) = get(e, "name") {
            return name;
        }
    }
    match js_sys::JSON::stringify(e).ok().and_then(|s| s.as_string()) {
        Some(json) => json,
        None => format!("a thrown {}", e.js_typeof().as_string().unwrap_or_default()),
    }
}
