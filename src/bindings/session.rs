//! `Session`: a handle on one session of a store.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use super::convert::{from_js, promise, to_js, JsResult};
use super::run::Run;
use crate::core::context::{recent_window, WindowLimits};
use crate::core::error::{Error, ErrorCode};
use crate::core::manager::{SessionManager, UpdateOptions};
use crate::core::model::{Message, NewMessage, Role, Session as SessionRecord};

#[wasm_bindgen(skip_typescript)]
pub struct Session {
    manager: Rc<SessionManager>,
    id: String,
    /// The record as last seen through this handle; the store's cache is preferred when it holds
    /// the session, so getters reflect changes made through other handles too.
    snapshot: Rc<RefCell<SessionRecord>>,
}

impl Session {
    pub(crate) fn new(manager: Rc<SessionManager>, record: SessionRecord) -> Session {
        Session {
            manager,
            id: record.id.clone(),
            snapshot: Rc::new(RefCell::new(record)),
        }
    }

    fn read<R>(&self, f: impl Fn(&SessionRecord) -> R) -> R {
        match self.manager.with_cached(&self.id, &f) {
            Some(r) => r,
            None => f(&self.snapshot.borrow()),
        }
    }

    fn refresh_snapshot(snapshot: &RefCell<SessionRecord>, manager: &SessionManager, id: &str) {
        if let Some(s) = manager.with_cached(id, Clone::clone) {
            *snapshot.borrow_mut() = s;
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HistoryOptionsJs {
    limit: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LlmOptionsJs {
    max_tokens: Option<f64>,
    max_messages: Option<f64>,
    strategy: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateOptionsJs {
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    metadata: Option<Value>,
}

/// Tells `{ title: null }` (clear) from no `title` at all (keep).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub(crate) fn count(value: Option<f64>, what: &str) -> JsResult<Option<usize>> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0) => {
            Err(Error::invalid_argument(format!("{what} must be a non-negative integer")).into())
        }
        Some(v) => Ok(Some(v.min(u32::MAX as f64) as usize)),
        None => Ok(None),
    }
}

/// A stored message in the OpenAI chat shape, ready to hand to any chat-completions client.
pub(crate) fn llm_message(m: &Message) -> Value {
    let mut v = json!({ "role": m.role.as_str(), "content": m.content });
    if let Some(name) = &m.name {
        if m.role != Role::Tool {
            v["name"] = json!(name);
        }
    }
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({ "id": c.id, "type": "function",
                        "function": { "name": c.name, "arguments": c.arguments } })
            })
            .collect();
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = json!(id);
    }
    v
}

#[wasm_bindgen]
impl Session {
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.id.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn title(&self) -> JsValue {
        self.read(|s| s.title.as_deref().map_or(JsValue::NULL, JsValue::from_str))
    }

    #[wasm_bindgen(getter)]
    pub fn metadata(&self) -> JsResult<JsValue> {
        self.read(|s| to_js(&s.metadata))
    }

    #[wasm_bindgen(getter, js_name = createdAt)]
    pub fn created_at(&self) -> f64 {
        self.read(|s| s.created_at)
    }

    #[wasm_bindgen(getter, js_name = updatedAt)]
    pub fn updated_at(&self) -> f64 {
        self.read(|s| s.updated_at)
    }

    #[wasm_bindgen(getter, js_name = messageCount)]
    pub fn message_count(&self) -> f64 {
        self.read(|s| s.message_count as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn usage(&self) -> JsResult<JsValue> {
        self.read(|s| to_js(&s.usage))
    }

    /// Appends a message; resolves once it is stored.
    #[wasm_bindgen(js_name = addMessage)]
    pub fn add_message(&self, message: JsValue) -> Promise {
        let (manager, id, snapshot) =
            (self.manager.clone(), self.id.clone(), self.snapshot.clone());
        promise(async move {
            let new: NewMessage = from_js(&message, "message", ErrorCode::InvalidMessage)?;
            let stored = manager.add_message(&id, new).await?;
            Session::refresh_snapshot(&snapshot, &manager, &id);
            to_js(&stored)
        })
    }

    /// The active history, oldest first; `{ limit }` keeps the newest `limit`.
    #[wasm_bindgen(js_name = getHistory)]
    pub fn get_history(&self, options: JsValue) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move {
            let o: Option<HistoryOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let limit = count(o.unwrap_or_default().limit, "limit")?;
            to_js(&manager.history(&id, limit).await?)
        })
    }

    /// What a model should see, in the OpenAI chat shape: the newest messages within
    /// `{ maxTokens, maxMessages }` (`strategy: "recent"`).
    #[wasm_bindgen(js_name = getMessagesForLLM)]
    pub fn get_messages_for_llm(&self, options: JsValue) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move {
            let o: Option<LlmOptionsJs> = from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            if let Some(s) = o.strategy.as_deref() {
                if s != "recent" {
                    return Err(Error::invalid_argument(format!(
                        "strategy {s:?} is not known here (expected \"recent\")"
                    ))
                    .into());
                }
            }
            let limits = WindowLimits {
                max_messages: count(o.max_messages, "maxMessages")?,
                max_tokens: count(o.max_tokens, "maxTokens")?.map(|t| t as u32),
            };
            let history = manager.history(&id, None).await?;
            let start = recent_window(&history, limits);
            let out: Vec<Value> = history[start..].iter().map(llm_message).collect();
            to_js(&out)
        })
    }

    /// `{ title?, metadata? }`: a title of `null` clears it; metadata replaces the whole object.
    pub fn update(&self, options: JsValue) -> Promise {
        let (manager, id, snapshot) =
            (self.manager.clone(), self.id.clone(), self.snapshot.clone());
        promise(async move {
            let o: Option<UpdateOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            let updated = manager
                .update(
                    &id,
                    UpdateOptions {
                        title: o.title,
                        metadata: o.metadata,
                    },
                )
                .await?;
            let info = to_js(&updated.info());
            *snapshot.borrow_mut() = updated;
            info
        })
    }

    /// Clears the history; id, title, metadata and runs stay.
    pub fn reset(&self) -> Promise {
        let (manager, id, snapshot) =
            (self.manager.clone(), self.id.clone(), self.snapshot.clone());
        promise(async move {
            *snapshot.borrow_mut() = manager.reset(&id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes the session from memory and storage.
    pub fn delete(&self) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move { Ok(JsValue::from_bool(manager.delete(&id).await?)) })
    }

    /// Reloads the record; resolves to `false` if the session no longer exists.
    pub fn refresh(&self) -> Promise {
        let (manager, id, snapshot) =
            (self.manager.clone(), self.id.clone(), self.snapshot.clone());
        promise(async move {
            Ok(JsValue::from_bool(match manager.get(&id).await? {
                Some(s) => {
                    *snapshot.borrow_mut() = s;
                    true
                }
                None => false,
            }))
        })
    }

    /// A run you track yourself (PraisonAI): `start()`, `complete({ tokensUsed })`, `fail(err)`.
    #[wasm_bindgen(js_name = createRun)]
    pub fn create_run(&self) -> Run {
        Run::new(self.manager.clone(), self.manager.new_run(&self.id))
    }

    /// Every run recorded on this session, oldest first.
    #[wasm_bindgen(js_name = getRuns)]
    pub fn get_runs(&self) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move { to_js(&manager.runs(&id).await?) })
    }

    /// The whole session as a versioned JSON bundle (`store.importSession` reads it back).
    pub fn export(&self) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move { to_js(&manager.export(&id).await?) })
    }

    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsResult<JsValue> {
        self.read(|s| to_js(&s.info()))
    }
}
