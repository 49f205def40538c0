//! `Agent`: Dexto-shaped sessions API (and, bound to one session, PraisonAI-shaped).

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use js_sys::{Array, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::config::{self, is_absent};
use super::convert::{field, history_to_js, opt_string, promise, string_arg, to_js, JsResult};
use super::session::{AgentView, Session};
use super::store::{create_options, SessionStore};
use crate::core::agent::{AgentEvent, AgentSettings, RunResult, StreamItem, Turn};
use crate::core::cancel::{AnyCancel, CancelToken};
use crate::core::error::{Error, ErrorCode};
use crate::core::events::EventBus;
use crate::core::ids;
use crate::core::io::CancelSignal;
use crate::core::llm::chat::ChatModel;
use crate::core::manager::{CreateOptions, SessionManager};
use crate::platform::abort;
use crate::platform::timer::JsTimer;

type Opening = Shared<LocalBoxFuture<'static, Result<Rc<SessionManager>, JsValue>>>;

#[wasm_bindgen(skip_typescript)]
pub struct Agent {
    name: String,
    instructions: Option<String>,
    bound_session: Option<String>,
    manager: Opening,
    settings: Rc<AgentSettings>,
    model: Option<Rc<dyn ChatModel>>,
    events: Rc<EventBus<AgentEvent>>,
    view: Rc<AgentView>,
}

/// What one `generate`/`stream` call works on, resolved before anything runs.
struct Call {
    opening: Opening,
    settings: Rc<AgentSettings>,
    model: Rc<dyn ChatModel>,
    events: Rc<EventBus<AgentEvent>>,
    session_id: String,
    create_if_missing: bool,
    input: Option<String>,
    signal: Option<abort::JsAbortSignal>,
    kind: CallKind,
}

enum CallKind {
    /// A turn: `input` (or none) and the reply.
    Turn,
    /// `continue`: carry on the session's interrupted reply instead of starting a turn.
    Resume,
    /// `regenerate`: a new answer to a user message (the id, or the last user message).
    Regenerate(Option<String>),
}

impl Call {
    async fn run(
        self,
        stream: bool,
        extra_cancel: Option<CancelToken>,
        on_item: &dyn Fn(StreamItem),
    ) -> JsResult<JsValue> {
        to_js(&self.turn(stream, extra_cancel, on_item).await?)
    }

    async fn turn(
        self,
        stream: bool,
        extra_cancel: Option<CancelToken>,
        on_item: &dyn Fn(StreamItem),
    ) -> JsResult<RunResult> {
        let manager = self.opening.await?;
        if self.create_if_missing {
            manager
                .get_or_create(&self.session_id, CreateOptions::default())
                .await?;
        }
        let mut signals: Vec<Rc<dyn CancelSignal>> = Vec::new();
        if let Some(s) = self.signal {
            signals.push(Rc::new(s));
        }
        if let Some(t) = extra_cancel {
            signals.push(Rc::new(t));
        }
        let cancel = AnyCancel(signals);
        let events = self.events.clone();
        let on_event = move |e: &AgentEvent| events.emit(e);
        let turn = Turn {
            manager: &manager,
            model: &*self.model,
            timer: &JsTimer,
            settings: &self.settings,
            cancel: Some(&cancel),
            stream,
            on_event: &on_event,
            on_item,
        };
        Ok(match self.kind {
            CallKind::Resume => turn.resume(&self.session_id).await?,
            CallKind::Regenerate(message_id) => {
                turn.regenerate(&self.session_id, message_id).await?
            }
            CallKind::Turn => turn.run(&self.session_id, self.input).await?,
        })
    }

    /// The call as an async iterable of its stream items; leaving the loop early (`return()`,
    /// `throw()`) aborts it. Items cross into JavaScript in batches: the run writes each item's
    /// iterator result as JSON text into a [`Feed`], and a `next()` that finds the text
    /// parses all of it at once (one `JSON.parse` per batch, one promise per `next()`, no
    /// channel or task per item); the `next()` calls after it take the parsed results in turn.
    fn into_stream(self) -> JsResult<JsValue> {
        let feed = Rc::new(RefCell::new(Feed::default()));
        let stop = CancelToken::new();
        let run_stop = stop.clone();
        let producer = feed.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let items = producer.clone();
            let on_item = move |item: StreamItem| items.borrow_mut().push(&item);
            let outcome = self.turn(true, Some(run_stop), &on_item).await;
            producer.borrow_mut().end(outcome.map(|_| ()));
        });
        let next_feed = feed.clone();
        let next = Closure::<dyn FnMut() -> Promise>::new(move || {
            let feed = next_feed.clone();
            let ticket = {
                let mut f = feed.borrow_mut();
                // Nobody waiting ahead of this call: what is there is this call's.
                if f.served == f.issued {
                    if let Some(result) = f.take() {
                        return settled(result);
                    }
                }
                f.issued += 1;
                f.issued - 1
            };
            promise(futures_util::future::poll_fn(move |cx| {
                let mut f = feed.borrow_mut();
                if f.served == ticket {
                    if let Some(result) = f.take() {
                        f.served += 1;
                        f.wake();
                        return Poll::Ready(result);
                    }
                }
                f.wakers.push(cx.waker().clone());
                Poll::Pending
            }))
        });
        let return_feed = feed.clone();
        let return_stop = stop.clone();
        let finish = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_v: JsValue| {
            return_feed.borrow_mut().close();
            return_stop.cancel();
            settled(iter_result(&JsValue::UNDEFINED, true))
        });
        let throw = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |e: JsValue| {
            feed.borrow_mut().close();
            stop.cancel();
            Promise::reject(&e)
        });
        let iterator = Object::new();
        Reflect::set(&iterator, &"next".into(), &next.into_js_value())?;
        Reflect::set(&iterator, &"return".into(), &finish.into_js_value())?;
        Reflect::set(&iterator, &"throw".into(), &throw.into_js_value())?;
        // `[Symbol.asyncIterator]() { return this }` without `new Function`, which a page's
        // Content-Security-Policy forbids unless it allows 'unsafe-eval': for an object,
        // `Object.prototype.valueOf` returns `this` itself.
        let this = Reflect::get(&Object::new(), &"valueOf".into())?;
        Reflect::set(&iterator, &js_sys::Symbol::async_iterator(), &this)?;
        Ok(iterator.into())
    }
}

/// A settled promise of `result`.
fn settled(result: JsResult<JsValue>) -> Promise {
    match result {
        Ok(v) => Promise::resolve(&v),
        Err(e) => Promise::reject(&e),
    }
}

/// What a stream's run has produced and its iterator not yet handed out.
struct Feed {
    /// Iterator results not yet parsed, as the text of a JSON array without its closing
    /// bracket: `[{"done":false,"value":…},…`.
    text: String,
    /// The last batch parsed, and how many of its results were handed out.
    batch: Option<Array>,
    batch_len: u32,
    taken: u32,
    /// The run ended: `Ok` when done, `Err` with the error for the `next()` after the items.
    end: Option<Result<(), JsValue>>,
    /// `return()` or `throw()` was called: every later `next()` is done.
    closed: bool,
    /// `next()` calls that had to wait, by ticket, answered in the order they were made.
    issued: u64,
    served: u64,
    wakers: Vec<Waker>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            text: "[".to_owned(),
            batch: None,
            batch_len: 0,
            taken: 0,
            end: None,
            closed: false,
            issued: 0,
            served: 0,
            wakers: Vec::new(),
        }
    }
}

impl Feed {
    fn push(&mut self, item: &StreamItem) {
        if self.closed {
            return;
        }
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.text.push_str(r#"{"done":false,"value":"#);
        item.write_json(&mut self.text);
        self.text.push('}');
        self.wake();
    }

    fn end(&mut self, outcome: Result<(), JsValue>) {
        self.end = Some(outcome);
        self.wake();
    }

    fn close(&mut self) {
        self.closed = true;
        self.text.truncate(1);
        self.batch = None;
        self.wake();
    }

    fn wake(&mut self) {
        for w in self.wakers.drain(..) {
            w.wake();
        }
    }

    /// The next iterator result (or the run's error, once, after every item), `None` while
    /// there is nothing yet.
    fn take(&mut self) -> Option<JsResult<JsValue>> {
        if self.closed {
            return Some(iter_result(&JsValue::UNDEFINED, true));
        }
        if self.taken >= self.batch_len && self.text.len() > 1 {
            self.text.push(']');
            let parsed = JSON::parse(&self.text);
            self.text.truncate(1);
            match parsed {
                Ok(batch) => {
                    let batch: Array = batch.unchecked_into();
                    self.batch_len = batch.length();
                    self.batch = Some(batch);
                    self.taken = 0;
                }
                Err(e) => return Some(Err(e)),
            }
        }
        if let Some(batch) = &self.batch {
            if self.taken < self.batch_len {
                let v = batch.get(self.taken);
                self.taken += 1;
                return Some(Ok(v));
            }
            self.batch = None;
        }
        match self.end.take()? {
            Err(e) => {
                self.end = Some(Ok(()));
                Some(Err(e))
            }
            Ok(()) => {
                self.end = Some(Ok(()));
                Some(iter_result(&JsValue::UNDEFINED, true))
            }
        }
    }
}

impl Agent {
    fn manager(&self) -> Opening {
        self.manager.clone()
    }

    /// Resolves a call's session, input and signal: `(input, sessionId)` or
    /// `(input, { sessionId, signal })`, or the bound session when none is given.
    fn call(&self, input: &JsValue, options: &JsValue) -> JsResult<Call> {
        let model = self.model.clone().ok_or_else(|| {
            Error::invalid_config("this agent has no `llm` configured, so it cannot generate")
        })?;
        let input = if is_absent(input) {
            None
        } else {
            Some(
                input
                    .as_string()
                    .ok_or_else(|| Error::invalid_message("input must be a string"))?,
            )
        };
        let (session_id, signal) = if let Some(id) = options.as_string() {
            (Some(id), None)
        } else {
            let id = opt_string(
                &field(options, "sessionId", "options", ErrorCode::InvalidArgument)?,
                "sessionId",
                ErrorCode::InvalidId,
            )?;
            let signal = field(options, "signal", "options", ErrorCode::InvalidArgument)?;
            (id, abort::from_js(&signal)?)
        };
        let (session_id, create_if_missing) = match session_id {
            Some(id) => (id, false),
            None => (
                self.bound_session.clone().ok_or_else(|| {
                    Error::invalid_argument(
                        "sessionId is required (or bind the agent with `session`)",
                    )
                })?,
                true,
            ),
        };
        ids::validate_session_id(&session_id)?;
        Ok(Call {
            opening: self.manager(),
            settings: self.settings.clone(),
            model,
            events: self.events.clone(),
            session_id,
            create_if_missing,
            input,
            signal,
            kind: CallKind::Turn,
        })
    }

    /// `continue`'s call: `(sessionId)` or `({ sessionId, signal })`, or the bound session.
    fn resume_call(&self, options: &JsValue) -> JsResult<Call> {
        let mut call = self.call(&JsValue::UNDEFINED, options)?;
        call.kind = CallKind::Resume;
        call.create_if_missing = false;
        Ok(call)
    }
}

/// A `{ value, done }` iterator result.
fn iter_result(value: &JsValue, done: bool) -> JsResult<JsValue> {
    let o = Object::new();
    Reflect::set(&o, &"value".into(), value)?;
    Reflect::set(&o, &"done".into(), &JsValue::from_bool(done))?;
    Ok(o.into())
}

#[wasm_bindgen]
impl Agent {
    /// Validates the whole configuration now; storage opens on `start()` or first use.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> JsResult<Agent> {
        if !config.is_object() {
            return Err(
                Error::invalid_config("new Agent(config) needs a configuration object").into(),
            );
        }
        let name = opt_string(
            &config::get(&config, "name")?,
            "name",
            ErrorCode::InvalidConfig,
        )?
        .unwrap_or_else(|| "assistant".to_owned());
        if name.trim().is_empty()
            || name.chars().count() > 128
            || name.chars().any(char::is_control)
        {
            return Err(Error::invalid_config("name must be 1 to 128 printable characters").into());
        }
        let instructions = opt_string(
            &config::get(&config, "instructions")?,
            "instructions",
            ErrorCode::InvalidConfig,
        )?;
        let session = config::get(&config, "session")?;
        let bound_session = if is_absent(&session) {
            None
        } else {
            let id = match session.as_string() {
                Some(id) => id,
                None => string_arg(
                    &config::get(&session, "id")?,
                    "session",
                    ErrorCode::InvalidConfig,
                )?,
            };
            ids::validate_session_id(&id)?;
            Some(id)
        };
        let store = config::get(&config, "store")?;
        let shared_manager = if is_absent(&store) {
            SessionStore::manager_of(&session)
        } else {
            Some(SessionStore::manager_of(&store).ok_or_else(|| {
                Error::invalid_config("store must be a SessionStore (from SessionStore.open)")
            })?)
        };
        let manager: Opening = match shared_manager {
            Some(m) => futures_util::future::ready(Ok(m)).boxed_local().shared(),
            None => {
                // Report configuration mistakes at construction, not at first use.
                config::manager_config(&config)?;
                config::storage_config(&config)?;
                let config = config.clone();
                async move { SessionStore::open_manager(&config).await }
                    .boxed_local()
                    .shared()
            }
        };
        let settings = super::llm::settings(&config, name.clone(), instructions.clone())?;
        let model = super::llm::model(&config, &name)?;
        let settings = Rc::new(settings);
        let view = Rc::new(AgentView {
            settings: settings.clone(),
            provider: model.as_ref().map(|m| m.provider()),
        });
        Ok(Agent {
            name,
            instructions,
            bound_session,
            manager,
            settings,
            model,
            events: Rc::default(),
            view,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn instructions(&self) -> Option<String> {
        self.instructions.clone()
    }

    /// Opens storage. Optional: every method waits for it.
    pub fn start(&self) -> Promise {
        let opening = self.manager();
        promise(async move {
            opening.await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The `SessionStore` this agent uses, to share with other agents.
    pub fn store(&self) -> Promise {
        let opening = self.manager();
        promise(async move { Ok(SessionStore::from_manager(opening.await?).into()) })
    }

    #[wasm_bindgen(js_name = createSession)]
    pub fn create_session(&self, id: JsValue, options: JsValue) -> Promise {
        let (opening, view) = (self.manager(), self.view.clone());
        promise(async move {
            let manager = opening.await?;
            let id = opt_string(&id, "sessionId", ErrorCode::InvalidId)?;
            let opts = create_options(&options)?;
            let s = manager.create(id.as_deref(), opts).await?;
            Ok(Session::new(manager, s).with_agent(Some(view)).into())
        })
    }

    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self, id: JsValue) -> Promise {
        let (opening, view) = (self.manager(), self.view.clone());
        promise(async move {
            let manager = opening.await?;
            let id = string_arg(&id, "sessionId", ErrorCode::InvalidId)?;
            Ok(match manager.get(&id).await? {
                Some(s) => Session::new(manager, s).with_agent(Some(view)).into(),
                None => JsValue::NULL,
            })
        })
    }

    #[wasm_bindgen(js_name = listSessions)]
    pub fn list_sessions(&self) -> Promise {
        let opening = self.manager();
        promise(async move { to_js(&opening.await?.list_ids().await?) })
    }

    #[wasm_bindgen(js_name = getSessionHistory)]
    pub fn get_session_history(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        let bound = self.bound_session.clone();
        promise(async move {
            let manager = opening.await?;
            let id = match opt_string(&id, "sessionId", ErrorCode::InvalidId)? {
                Some(id) => id,
                None => bound.ok_or_else(|| Error::invalid_argument("sessionId is required"))?,
            };
            history_to_js(&manager.history(&id, None).await?)
        })
    }

    #[wasm_bindgen(js_name = resetConversation)]
    pub fn reset_conversation(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        promise(async move {
            let manager = opening.await?;
            let id = string_arg(&id, "sessionId", ErrorCode::InvalidId)?;
            manager.reset(&id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = deleteSession)]
    pub fn delete_session(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        promise(async move {
            let manager = opening.await?;
            let id = string_arg(&id, "sessionId", ErrorCode::InvalidId)?;
            Ok(JsValue::from_bool(manager.delete(&id).await?))
        })
    }

    /// One turn: stores `input` as a user message, calls the model, stores and resolves to the
    /// reply. `options` is a session id or `{ sessionId, signal }`.
    pub fn generate(&self, input: JsValue, options: JsValue) -> Promise {
        let call = match self.call(&input, &options) {
            Ok(c) => c,
            Err(e) => return Promise::reject(&e),
        };
        promise(async move { call.run(false, None, &|_| {}).await })
    }

    /// PraisonAI: `generate` on the session the agent is bound to (created on first use).
    pub fn chat(&self, input: JsValue, options: JsValue) -> Promise {
        self.generate(input, options)
    }

    /// One streamed turn, as an async iterable of `{ type: "start" | "delta" | "tool_call" |
    /// "restart" | "done" }` events (`restart` only with `retry.midStream`). Leaving the loop
    /// early aborts the call (the partial reply is kept as `interrupted`).
    pub fn stream(&self, input: JsValue, options: JsValue) -> JsResult<JsValue> {
        self.call(&input, &options)?.into_stream()
    }

    /// Continues the session's `interrupted` reply (after an abort, a crash, a closed tab): the
    /// same stored message grows and ends `complete`; resolves like `generate`, `content` being
    /// the whole reply. `options` is a session id or `{ sessionId, signal }`.
    #[wasm_bindgen(js_name = "continue")]
    pub fn continue_reply(&self, options: JsValue) -> Promise {
        let call = match self.resume_call(&options) {
            Ok(c) => c,
            Err(e) => return Promise::reject(&e),
        };
        promise(async move { call.run(false, None, &|_| {}).await })
    }

    /// `continue`, streamed like `stream`: the deltas are the new text only.
    #[wasm_bindgen(js_name = continueStream)]
    pub fn continue_stream(&self, options: JsValue) -> JsResult<JsValue> {
        self.resume_call(&options)?.into_stream()
    }

    /// A new answer to a user message, streamed like `stream`: `messageId` names the user
    /// message (or a reply to it; absent or `null`: the last user message of the active history).
    /// The old answer stays as an alternative (`session.getBranches(id)`).
    pub fn regenerate(&self, message_id: JsValue, options: JsValue) -> JsResult<JsValue> {
        let id = opt_string(&message_id, "messageId", ErrorCode::InvalidArgument)?;
        let mut call = self.call(&JsValue::UNDEFINED, &options)?;
        call.kind = CallKind::Regenerate(id);
        call.create_if_missing = false;
        call.into_stream()
    }

    /// Subscribes to `run:start`, `run:complete`, `run:error`, `llm:retry`, `llm:chunk`, or to
    /// the store's events (see `SessionStore.on`, which need `await agent.start()` first).
    /// Returns the unsubscribe function.
    pub fn on(&self, event: JsValue, listener: JsValue) -> JsResult<JsValue> {
        let name = string_arg(&event, "event name", ErrorCode::InvalidArgument)?;
        if AgentEvent::NAMES.contains(&name.as_str()) {
            return super::events::subscribe(&self.events, &event, listener);
        }
        match self.manager.peek() {
            Some(Ok(m)) => super::events::subscribe(&m.events, &event, listener),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Error::new(
                ErrorCode::InvalidArgument,
                "call `await agent.start()` before subscribing to events",
            )
            .into()),
        }
    }
}
