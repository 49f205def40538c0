//! The server build's exports (cargo feature `server`): thin conversions over `core::server`,
//! used by `server/handler.js`. Results cross as JSON values; request errors come back as
//! `{ status, body }` (not thrown: a bad request is an answer, not a fault).

use js_sys::Reflect;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use super::convert::{to_js, JsResult};
use crate::core::error::Error;
use crate::core::server::body::{parse_create, parse_empty, parse_fork, parse_limit, parse_send};
use crate::core::server::buffer::{Limits, RunBuffer};
use crate::core::server::route::match_route;
use crate::core::server::{config, sse, ApiError};

fn answer(r: Result<Value, ApiError>) -> JsResult<JsValue> {
    to_js(&match r {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "status": e.status, "body": e.body() }),
    })
}

/// `{ ok: { endpoint, agent, session_id, message_id } }` or `{ status, body }`.
#[wasm_bindgen(js_name = serverRoute, skip_typescript)]
pub fn server_route(method: &str, path: &str) -> JsResult<JsValue> {
    answer(match_route(method, path).map(|r| {
        json!({ "endpoint": r.endpoint.as_str(), "agent": r.agent, "session_id": r.session_id,
                "message_id": r.message_id })
    }))
}

#[wasm_bindgen(js_name = serverParseCreate, skip_typescript)]
pub fn server_parse_create(text: &str) -> JsResult<JsValue> {
    answer(
        parse_create(text).map(
            |b| json!({ "session_id": b.session_id, "title": b.title, "metadata": b.metadata }),
        ),
    )
}

#[wasm_bindgen(js_name = serverParseSend, skip_typescript)]
pub fn server_parse_send(text: &str) -> JsResult<JsValue> {
    answer(parse_send(text).map(|b| json!({ "text": b.text })))
}

#[wasm_bindgen(js_name = serverParseFork, skip_typescript)]
pub fn server_parse_fork(text: &str) -> JsResult<JsValue> {
    answer(parse_fork(text).map(|b| {
        json!({ "at_message_id": b.at_message_id, "session_id": b.session_id, "title": b.title })
    }))
}

#[wasm_bindgen(js_name = serverParseEmpty, skip_typescript)]
pub fn server_parse_empty(text: &str) -> JsResult<JsValue> {
    answer(parse_empty(text).map(|()| Value::Bool(true)))
}

#[wasm_bindgen(js_name = serverParseLimit, skip_typescript)]
pub fn server_parse_limit(raw: Option<String>, default: u32, max: u32) -> JsResult<JsValue> {
    answer(parse_limit(raw.as_deref(), default, max).map(Value::from))
}

/// `{ status, body }` for an error code (the library's or the server's own).
#[wasm_bindgen(js_name = serverError, skip_typescript)]
pub fn server_error(code: &str, message: &str, details: JsValue) -> JsResult<JsValue> {
    let details: Value = if details.is_undefined() || details.is_null() {
        Value::Null
    } else {
        super::convert::from_js_value(&details, "details", crate::core::error::ErrorCode::Internal)?
    };
    answer(Err(ApiError::new(code, message).with_details(details)))
}

/// The normalised config (see `core::server::config`); throws `INVALID_CONFIG` naming the key.
/// `env` is an object of environment variables (`process.env`, a Worker's `env`).
#[wasm_bindgen(js_name = serverNormalizeConfig, skip_typescript)]
pub fn server_normalize_config(config_json: &str, env: JsValue) -> JsResult<JsValue> {
    let raw: Value = crate::core::json::parse(config_json)
        .map_err(|e| Error::invalid_config(format!("the config is not valid JSON: {e}")))?;
    let lookup = |name: &str| -> Option<String> {
        if env.is_undefined() || env.is_null() {
            return None;
        }
        Reflect::get(&env, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    to_js(&config::normalize(&raw, &lookup)?)
}

#[wasm_bindgen(js_name = serverKeepalive, skip_typescript)]
pub fn server_keepalive() -> String {
    sse::KEEPALIVE.to_owned()
}

/// One run's resumable events (see `core::server::buffer`).
#[wasm_bindgen(js_name = ServerRunBuffer, skip_typescript)]
pub struct ServerRunBuffer(RunBuffer);

#[wasm_bindgen(js_class = ServerRunBuffer)]
impl ServerRunBuffer {
    #[wasm_bindgen(constructor)]
    pub fn new(key: String, max_bytes: f64, max_events: f64, keep_ms: f64) -> ServerRunBuffer {
        ServerRunBuffer(RunBuffer::new(
            key,
            Limits {
                max_bytes: max_bytes as usize,
                max_events: max_events as usize,
                keep_ms,
            },
        ))
    }

    #[wasm_bindgen(getter)]
    pub fn key(&self) -> String {
        self.0.key().to_owned()
    }

    #[wasm_bindgen(getter, js_name = lastId)]
    pub fn last_id(&self) -> f64 {
        self.0.last_id() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn ended(&self) -> bool {
        self.0.ended()
    }

    /// Frames and keeps the event; returns the frame for live listeners.
    pub fn push(&mut self, event: &str, data: &str) -> String {
        self.0.push(event, data)
    }

    pub fn end(&mut self, now_ms: f64) {
        self.0.end(now_ms)
    }

    pub fn expired(&self, now_ms: f64) -> bool {
        self.0.expired(now_ms)
    }

    /// `{ frames: string[], gap: boolean }`: the events after `lastEventId`.
    pub fn replay(&self, last_event_id: Option<String>) -> JsResult<JsValue> {
        let r = self.0.replay(last_event_id.as_deref());
        to_js(&json!({ "frames": r.frames, "gap": r.gap }))
    }
}
