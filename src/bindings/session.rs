//! `Session`: a handle on one session of a store.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use super::convert::{from_js, promise, readable_metadata, to_js, JsResult};
use super::errors::illegal_constructor;
use super::llm::ContextConfigJs;
use super::run::Run;
use crate::core::agent::{requires_user_first, AgentSettings};
use crate::core::context::build::{build, Built, Inputs, SummaryChoice};
use crate::core::context::{estimate_message_tokens, ContextConfig, Strategy};
use crate::core::error::{Error, ErrorCode};
use crate::core::manager::{SessionManager, UpdateOptions};
use crate::core::model::{Message, MessageStatus, NewMessage, Role, Session as SessionRecord};

/// The agent a handle was obtained through: its context settings and provider, so that
/// `previewContext()` shows what that agent would send.
pub(crate) struct AgentView {
    pub settings: Rc<AgentSettings>,
    pub provider: String,
}

#[wasm_bindgen(skip_typescript)]
pub struct Session {
    manager: Rc<SessionManager>,
    id: String,
    /// The record as last seen through this handle; the store's cache is preferred when it holds
    /// the session, so getters reflect changes made through other handles too.
    snapshot: Rc<RefCell<SessionRecord>>,
    agent: Option<Rc<AgentView>>,
}

impl Session {
    pub(crate) fn new(manager: Rc<SessionManager>, record: SessionRecord) -> Session {
        Session {
            manager,
            id: record.id.clone(),
            snapshot: Rc::new(RefCell::new(record)),
            agent: None,
        }
    }

    pub(crate) fn with_agent(mut self, agent: Option<Rc<AgentView>>) -> Session {
        self.agent = agent;
        self
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
struct PreviewOptionsJs {
    strategy: Option<String>,
    #[serde(alias = "window_size")]
    window_size: Option<u32>,
    budget: Option<u32>,
    max_tokens: Option<u32>,
    max_messages: Option<u32>,
    threshold: Option<f64>,
    target: Option<f64>,
    instructions: Option<String>,
    input: Option<String>,
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
    /// `new Session()` from JavaScript: refused with an error that says where one comes from
    /// (without this, wasm-bindgen's class would construct an empty shell that fails later).
    #[wasm_bindgen(constructor)]
    pub fn illegal_constructor() -> JsResult<Session> {
        Err(illegal_constructor(
            "Session",
            "`await store.getOrCreate(id)` or `await agent.createSession(id)`",
        ))
    }

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
            let budget = count(o.max_tokens, "maxTokens")?.map(|t| t.min(u32::MAX as usize) as u32);
            let max_messages = count(o.max_messages, "maxMessages")?;
            let strategy = match (budget, max_messages) {
                (Some(0), _) | (_, Some(0)) => {
                    return Err(Error::invalid_argument(
                        "maxTokens and maxMessages must be at least 1",
                    )
                    .into())
                }
                (Some(budget), _) => Strategy::TokenWindow { budget },
                (None, Some(window_size)) => Strategy::BufferWindow { window_size },
                (None, None) => Strategy::Full,
            };
            let session = manager.require(&id).await?;
            let inputs = Inputs {
                config: ContextConfig {
                    strategy,
                    max_messages,
                }
                .capped(session.max_messages.map(|m| m as usize)),
                fixed_tokens: 0,
                user_first: false,
                pending: None,
                summary: SummaryChoice::Stored,
            };
            let built = build(&**manager.store(), &session, &inputs).await?;
            let out: Vec<Value> = built.messages.iter().map(llm_message).collect();
            to_js(&out)
        })
    }

    /// Exactly what a call would send now (or, with `{ input }`, after adding that user message),
    /// with token estimates and the decisions taken. Uses the agent's context settings when the
    /// handle came from an agent; the options override them.
    #[wasm_bindgen(js_name = previewContext)]
    pub fn preview_context(&self, options: JsValue) -> Promise {
        let (manager, id, agent) = (self.manager.clone(), self.id.clone(), self.agent.clone());
        promise(async move {
            let o: Option<PreviewOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            let session = manager.require(&id).await?;
            let (mut inputs, system, provider) = match &agent {
                Some(a) => (
                    a.settings.context_inputs(&session, &a.provider),
                    a.settings.instructions.clone(),
                    a.provider.clone(),
                ),
                None => (
                    Inputs {
                        config: ContextConfig::default()
                            .capped(session.max_messages.map(|m| m as usize)),
                        fixed_tokens: 0,
                        user_first: false,
                        pending: None,
                        summary: SummaryChoice::Stored,
                    },
                    None,
                    String::new(),
                ),
            };
            let overrides = o.strategy.is_some()
                || o.budget.is_some()
                || o.max_tokens.is_some()
                || o.window_size.is_some()
                || o.threshold.is_some()
                || o.target.is_some();
            if overrides {
                // Options without a strategy name imply the strategy they belong to.
                let strategy = o.strategy.or_else(|| {
                    let implied = if o.threshold.is_some() || o.target.is_some() {
                        "summary_buffer"
                    } else if o.window_size.is_some() {
                        "buffer_window"
                    } else {
                        "token_window"
                    };
                    Some(implied.to_owned())
                });
                let c = ContextConfigJs {
                    strategy,
                    window_size: o.window_size,
                    budget: o.budget.or(o.max_tokens),
                    max_messages: None,
                    threshold: o.threshold,
                    target: o.target,
                }
                .parse(ErrorCode::InvalidArgument)?;
                inputs.config = ContextConfig {
                    strategy: c.strategy,
                    ..inputs.config
                };
            }
            if let Some(m) = o.max_messages {
                inputs.config = inputs.config.capped(Some(m as usize));
            }
            let system = o.instructions.or(system);
            if agent.is_none() {
                inputs.fixed_tokens = system
                    .as_deref()
                    .map_or(0, |s| estimate_message_tokens(s, ""));
                inputs.user_first = requires_user_first(&provider);
            }
            let pending = o.input.map(|text| Message {
                id: "pending".into(),
                session_id: id.clone(),
                seq: session.next_seq,
                role: Role::User,
                tokens: estimate_message_tokens(&text, ""),
                content: text,
                name: None,
                tool_calls: Vec::new(),
                tool_call_id: None,
                status: MessageStatus::Complete,
                created_at: manager.now(),
                run_id: None,
                metadata: None,
            });
            inputs.pending = pending.as_ref();
            let built = build(&**manager.store(), &session, &inputs).await?;
            to_js(&preview_json(
                &built,
                system.as_deref(),
                inputs.config,
                pending.is_some(),
            ))
        })
    }

    /// The stored summaries of this session (`summary_buffer`), oldest first.
    #[wasm_bindgen(js_name = getSummaries)]
    pub fn get_summaries(&self) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move { to_js(&manager.summaries(&id).await?) })
    }

    /// Deletes one summary: the next context uses the previous one (or the messages themselves).
    /// Resolves to whether it existed.
    #[wasm_bindgen(js_name = removeSummary)]
    pub fn remove_summary(&self, summary_id: JsValue) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move {
            let sid =
                super::convert::string_arg(&summary_id, "summaryId", ErrorCode::InvalidArgument)?;
            Ok(JsValue::from_bool(manager.remove_summary(&id, &sid).await?))
        })
    }

    /// `{ title?, metadata? }`: a title of `null` clears it; metadata replaces the whole object.
    pub fn update(&self, options: JsValue) -> Promise {
        let (manager, id, snapshot) =
            (self.manager.clone(), self.id.clone(), self.snapshot.clone());
        promise(async move {
            readable_metadata(&options, "options")?;
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

fn preview_json(
    built: &Built,
    system: Option<&str>,
    config: ContextConfig,
    pending: bool,
) -> Value {
    let entries: Vec<Value> = built
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut e =
                json!({ "id": m.id, "seq": m.seq, "role": m.role.as_str(), "tokens": m.tokens });
            if i == 0 && built.summary.as_ref().is_some_and(|s| s.id == m.id) {
                e["summary"] = json!(true);
            }
            if pending && i + 1 == built.messages.len() {
                e["pending"] = json!(true);
            }
            e
        })
        .collect();
    let dropped: Vec<Value> = built
        .dropped
        .iter()
        .map(|(id, seq, reason)| json!({ "id": id, "seq": seq, "reason": reason }))
        .collect();
    let summarize = built.job.as_ref().map(|j| {
        json!({
            "messageIds": j.messages.iter().map(|m| &m.id).collect::<Vec<_>>(),
            "throughSeq": j.messages.last().map(|m| m.seq),
            "previous": j.previous.as_ref().map(|p| &p.id),
        })
    });
    let (threshold, target) = match config.strategy {
        Strategy::SummaryBuffer {
            threshold, target, ..
        } => (Some(threshold), Some(target)),
        _ => (None, None),
    };
    json!({
        "strategy": config.strategy.name(),
        "system": system,
        "messages": built.messages.iter().map(llm_message).collect::<Vec<_>>(),
        "entries": entries,
        "tokens": built.tokens,
        "calibratedTokens": (f64::from(built.tokens) * built.calibration).ceil(),
        "calibration": built.calibration,
        "budget": built.budget,
        "threshold": threshold,
        "target": target,
        "maxMessages": config.max_messages,
        "dropped": dropped,
        "omittedBeforeSeq": built.omitted_before_seq,
        "summary": built.summary,
        "summarize": summarize,
    })
}
