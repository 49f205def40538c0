//! `Session`: a handle on one session of a store.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::convert::{
    from_js, history_to_js, message_to_js, promise, promise_now, readable_metadata, to_js, JsResult,
};
use super::errors::illegal_constructor;
use super::run::Run;
#[cfg(feature = "llm")]
use crate::core::agent::AgentSettings;
use crate::core::error::{Error, ErrorCode};
use crate::core::json::whole_number;
#[cfg(feature = "llm")]
use crate::core::llm::Provider;
use crate::core::manager::{
    AddMessages, EditOptions, ForkOptions, SessionManager, TreeOp, TreeOut, UpdateOptions,
};
use crate::core::model::{NewMessage, Session as SessionRecord};
#[cfg(feature = "llm")]
use crate::core::preview::{
    messages_for_llm, preview_context, MessagesForLlmOptions, PreviewAgent, PreviewOptions,
};
use crate::core::record_read::{Fields, FromValue, ReadResult};

#[cfg(feature = "llm")]
/// The agent a handle was obtained through: its context settings and provider, so that
/// `previewContext()` shows what that agent would send.
pub(crate) struct AgentView {
    pub settings: Rc<AgentSettings>,
    /// The provider of the agent's model; `None` for an agent without one.
    pub provider: Option<Provider>,
}

#[wasm_bindgen(skip_typescript)]
pub struct Session {
    manager: Rc<SessionManager>,
    id: String,
    /// The record as last seen through this handle; the store's cache is preferred when it holds
    /// the session, so getters reflect changes made through other handles too.
    snapshot: Rc<RefCell<SessionRecord>>,
    #[cfg(feature = "llm")]
    agent: Option<Rc<AgentView>>,
}

impl Session {
    pub(crate) fn new(manager: Rc<SessionManager>, record: SessionRecord) -> Session {
        Session {
            manager,
            id: record.id.clone(),
            snapshot: Rc::new(RefCell::new(record)),
            #[cfg(feature = "llm")]
            agent: None,
        }
    }

    #[cfg(feature = "llm")]
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

    /// Every tree operation through one promise (one async state machine in the module).
    fn tree(&self, op: JsResult<TreeOp>) -> Promise {
        let (manager, id, snapshot) =
            (self.manager.clone(), self.id.clone(), self.snapshot.clone());
        #[cfg(feature = "llm")]
        let agent = self.agent.clone();
        promise(async move {
            let out = manager.tree_op(&id, op?).await?;
            Session::refresh_snapshot(&snapshot, &manager, &id);
            match out {
                TreeOut::Message(m) => message_to_js(&m),
                TreeOut::Messages(m) => history_to_js(&m),
                TreeOut::Removed(n) => Ok(JsValue::from_f64(n as f64)),
                TreeOut::Session(record) => {
                    let session = Session::new(manager, record);
                    #[cfg(feature = "llm")]
                    let session = session.with_agent(agent);
                    Ok(session.into())
                }
            }
        })
    }

    fn refresh_snapshot(snapshot: &RefCell<SessionRecord>, manager: &SessionManager, id: &str) {
        if let Some(s) = manager.with_cached(id, Clone::clone) {
            *snapshot.borrow_mut() = s;
        }
    }
}

#[derive(Default)]
struct HistoryOptionsJs {
    limit: Option<f64>,
    /// A message id: the branch through it instead of the active one.
    branch: Option<String>,
}

impl FromValue for HistoryOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["limit", "branch"], &[])?;
        Ok(HistoryOptionsJs {
            limit: f.opt_number("limit")?,
            branch: f.opt_string("branch")?,
        })
    }
}

#[derive(Default)]
struct UpdateOptionsJs {
    /// `Some(None)` for `{ title: null }` (clear), `None` for no `title` at all (keep).
    title: Option<Option<String>>,
    metadata: Option<Value>,
}

impl FromValue for UpdateOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["title", "metadata"], &[])?;
        let title = match value.get("title") {
            Some(_) => Some(f.opt_string("title")?),
            None => None,
        };
        Ok(UpdateOptionsJs {
            title,
            metadata: f.opt_value("metadata"),
        })
    }
}

/// `addMessages`' options: `truncateAfter` a message id or `null` (everything), `metadata`.
#[derive(Default)]
struct AddMessagesOptionsJs {
    truncate_after: Option<Option<String>>,
    metadata: Option<Value>,
}

impl FromValue for AddMessagesOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["truncateAfter", "metadata"], &[])?;
        let truncate_after = match value.get("truncateAfter") {
            Some(_) => Some(f.opt_string("truncateAfter")?),
            None => None,
        };
        Ok(AddMessagesOptionsJs {
            truncate_after,
            metadata: f.opt_value("metadata"),
        })
    }
}

crate::deserialize_via_value!(HistoryOptionsJs, UpdateOptionsJs, AddMessagesOptionsJs);

fn message_id_arg(value: &JsValue) -> JsResult<String> {
    super::convert::string_arg(value, "messageId", ErrorCode::InvalidArgument)
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
        promise_now(async move {
            let new: NewMessage = match super::append::plain(&message) {
                Some(new) => new,
                None => from_js(&message, "message", ErrorCode::InvalidMessage)?,
            };
            let stored = manager.add_message(&id, new).await?;
            Session::refresh_snapshot(&snapshot, &manager, &id);
            message_to_js(&stored)
        })
    }

    /// Several messages as one write (`{ truncateAfter?, metadata? }`): all validated first,
    /// appended after the truncation, with the new metadata. Resolves to the messages stored.
    #[wasm_bindgen(js_name = addMessages)]
    pub fn add_messages(&self, messages: JsValue, options: JsValue) -> Promise {
        self.tree((|| {
            if !js_sys::Array::is_array(&messages) {
                return Err(Error::invalid_argument("messages must be an array").into());
            }
            readable_metadata(&options, "options")?;
            let o: Option<AddMessagesOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            let messages = from_js(&messages, "messages", ErrorCode::InvalidMessage)?;
            Ok(TreeOp::Add(AddMessages {
                messages,
                truncate_after: o.truncate_after,
                metadata: o.metadata,
            }))
        })())
    }

    /// The active history, oldest first; `{ limit }` keeps the newest `limit`.
    #[wasm_bindgen(js_name = getHistory)]
    pub fn get_history(&self, options: JsValue) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move {
            let o: Option<HistoryOptionsJs> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let o = o.unwrap_or_default();
            let limit = whole_number(o.limit, "limit")?;
            if let Some(branch) = o.branch {
                let path = match manager.tree_op(&id, TreeOp::BranchHistory(branch)).await? {
                    TreeOut::Messages(m) => m,
                    _ => Vec::new(),
                };
                let query = crate::core::store::MessageQuery {
                    limit,
                    ..Default::default()
                };
                return history_to_js(&crate::core::tree::apply_query(path, query));
            }
            if let Some(host) = manager.host_history(&id, limit).await? {
                if let Ok(messages) = host.downcast::<JsValue>() {
                    return Ok(*messages);
                }
            }
            history_to_js(&manager.history(&id, limit).await?)
        })
    }

    // Not in the storage-only module (no context builder).
    #[cfg(feature = "llm")]
    /// What a model should see, in the OpenAI chat shape: the newest messages within
    /// `{ maxTokens, maxMessages }` (`strategy: "recent"`).
    #[wasm_bindgen(js_name = getMessagesForLLM)]
    pub fn get_messages_for_llm(&self, options: JsValue) -> Promise {
        let (manager, id) = (self.manager.clone(), self.id.clone());
        promise(async move {
            let o: Option<MessagesForLlmOptions> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let session = manager.require(&id).await?;
            let messages =
                messages_for_llm(&**manager.store(), &session, &o.unwrap_or_default()).await?;
            to_js(&messages)
        })
    }

    #[cfg(feature = "llm")]
    /// Exactly what a call would send now (or, with `{ input }`, after adding that user message),
    /// with token estimates and the decisions taken. Uses the agent's context settings when the
    /// handle came from an agent; the options override them.
    #[wasm_bindgen(js_name = previewContext)]
    pub fn preview_context(&self, options: JsValue) -> Promise {
        let (manager, id, agent) = (self.manager.clone(), self.id.clone(), self.agent.clone());
        promise(async move {
            let o: Option<PreviewOptions> =
                from_js(&options, "options", ErrorCode::InvalidArgument)?;
            let session = manager.require(&id).await?;
            let agent = agent.as_deref().map(|a| PreviewAgent {
                settings: &a.settings,
                provider: a.provider,
            });
            let preview = preview_context(
                &**manager.store(),
                &session,
                agent,
                o.unwrap_or_default(),
                manager.now(),
            )
            .await?;
            to_js(&preview)
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

    /// A new alternative to a message (`{ content, metadata? }`), made the active leaf; what
    /// followed the original stays on its branch. Resolves to the new message.
    #[wasm_bindgen(js_name = editMessage)]
    pub fn edit_message(&self, message_id: JsValue, options: JsValue) -> Promise {
        self.tree(message_id_arg(&message_id).and_then(|mid| {
            readable_metadata(&options, "options")?;
            let edit: Option<EditOptions> =
                from_js(&options, "options", ErrorCode::InvalidMessage)?;
            Ok(TreeOp::Edit(mid, edit.unwrap_or_default()))
        }))
    }

    /// The alternatives at a message's place, it among them, oldest first (the "2 / 3" of a UI).
    #[wasm_bindgen(js_name = getBranches)]
    pub fn get_branches(&self, message_id: JsValue) -> Promise {
        self.tree(message_id_arg(&message_id).map(TreeOp::Branches))
    }

    /// Makes the branch through a message active (down to its newest message). Resolves to the
    /// active history.
    #[wasm_bindgen(js_name = switchBranch)]
    pub fn switch_branch(&self, message_id: JsValue) -> Promise {
        self.tree(message_id_arg(&message_id).map(TreeOp::Switch))
    }

    /// Moves the active leaf back to a message (ADK's rewind); what followed stays reachable as a
    /// branch. Resolves to the active history.
    pub fn rewind(&self, message_id: JsValue) -> Promise {
        self.tree(message_id_arg(&message_id).map(TreeOp::Rewind))
    }

    /// Deletes everything after a message, on every branch below it, and makes it the active
    /// leaf. Resolves to how many messages were deleted.
    #[wasm_bindgen(js_name = truncateAfter)]
    pub fn truncate_after(&self, message_id: JsValue) -> Promise {
        self.tree(message_id_arg(&message_id).map(TreeOp::Truncate))
    }

    /// Writes a message by its own `id`: replaced in place when the session holds it, appended
    /// to the active branch otherwise. Resolves to the stored message.
    #[wasm_bindgen(js_name = upsertMessage)]
    pub fn upsert_message(&self, message: JsValue) -> Promise {
        self.tree(from_js(&message, "message", ErrorCode::InvalidMessage).map(TreeOp::Upsert))
    }

    /// A new session holding this one's active history (or the path to `atMessageId`), sharing
    /// nothing with it (Dexto's `forkSession`): `{ atMessageId?, id?, title? }`, title
    /// "Fork: …" by default. Resolves to the new session.
    pub fn fork(&self, options: JsValue) -> Promise {
        self.tree(
            from_js::<Option<ForkOptions>>(&options, "options", ErrorCode::InvalidArgument)
                .map(|o| TreeOp::Fork(o.unwrap_or_default())),
        )
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
