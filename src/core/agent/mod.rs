//! The run engine: one turn of an agent on a session. It stores the user message before the
//! model is called, calls the model with retries (backoff with jitter, `Retry-After` honoured),
//! enforces the whole-call and idle timeouts and the caller's cancellation, keeps a streamed
//! reply's partial text stored as it grows, and records the run. Pure: the model, the timer and
//! the cancellation come in as traits.
//!
//! Retries follow what the caller has seen: a failed attempt of which nothing reached the caller
//! (any `generate`, a stream before its first delta or tool call) is retried whenever the error
//! allows; after that only with `retry.midStream`, and the stream then yields
//! [`StreamItem::Restart`] before the new attempt's deltas. Every attempt writes the same stored
//! reply, so a restart replaces the partial text instead of adding a second message.
//!
//! [`Turn::resume`] continues an `interrupted` reply: the same message grows and ends `complete`.
//!
//! The context a turn sends, and `summary_buffer`'s summarisation through the model, are in
//! `summarize`.

pub mod options;
mod summarize;

use std::cell::{Cell, RefCell};

use futures_util::future::{self, Either, LocalBoxFuture};
use serde::Serialize;
use serde_json::json;

use crate::core::context::build::{calibration, Inputs, SummaryChoice};
use crate::core::context::window::too_large;
use crate::core::context::{
    estimate_message_tokens, estimate_text_tokens, ContextConfig, Strategy,
};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::io::{CancelSignal, Timer};
use crate::core::json::value_of;
use crate::core::llm::chat::ChatModel;
use crate::core::llm::{
    ChatRequest, ChatResponse, Provider, RetryPolicy, StreamEvent, ToolSpec, CONTINUE_INSTRUCTION,
};
use crate::core::manager::SessionManager;
use crate::core::model::{
    Message, MessageStatus, NewMessage, Run, RunStatus, Session, Summary, ToolCall, Usage,
};
use crate::core::record_json;

pub const DEFAULT_TIMEOUT_MS: u64 = 600_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// How often a growing streamed reply is rewritten in storage, so a crash loses at most this
/// much of it.
pub const PARTIAL_FLUSH_MS: f64 = 1_000.0;

/// What an agent is, independent of any one call.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub name: String,
    pub instructions: Option<String>,
    pub retry: RetryPolicy,
    pub timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub context: ContextConfig,
    pub tools: Vec<ToolSpec>,
}

impl AgentSettings {
    /// Estimated tokens of what every request carries: the instructions and the tool definitions.
    pub fn fixed_tokens(&self) -> u32 {
        let system = self
            .instructions
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map_or(0, |s| estimate_message_tokens(s, ""));
        let tools = if self.tools.is_empty() {
            0
        } else {
            estimate_text_tokens(&serde_json::to_string(&self.tools).unwrap_or_default())
        };
        system.saturating_add(tools)
    }

    /// What a context build for this agent, on `session`, with `provider` (none for an agent
    /// without a model), starts from.
    pub fn context_inputs<'a>(&self, session: &Session, provider: Option<Provider>) -> Inputs<'a> {
        Inputs {
            config: self
                .context
                .capped(session.max_messages.map(|m| m as usize)),
            fixed_tokens: self.fixed_tokens(),
            user_first: provider.is_some_and(Provider::requires_user_first),
            pending: None,
            summary: SummaryChoice::Stored,
        }
    }
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            name: "assistant".to_owned(),
            instructions: None,
            retry: RetryPolicy::default(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            context: ContextConfig::default(),
            tools: Vec::new(),
        }
    }
}

/// The outcome of a turn, as `generate` resolves and `done` carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub content: String,
    pub session_id: String,
    pub message_id: String,
    pub run_id: String,
    pub usage: Usage,
    pub finish_reason: Option<String>,
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
}

/// What a stream's consumer sees, in order: `Start`, then deltas and tool calls, then `Done`.
/// With `retry.midStream`, `Restart` may come between deltas: what came before it is void.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Start {
        run_id: String,
    },
    Delta(String),
    ToolCall(ToolCall),
    /// The attempt that yielded the deltas so far failed; attempt number `attempt` (1 for the
    /// first retry) starts over. `reason` is the failure's error code.
    Restart {
        attempt: u32,
        reason: String,
    },
    Done(RunResult),
}

impl StreamItem {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            StreamItem::Start { run_id } => json!({ "type": "start", "runId": run_id }),
            StreamItem::Delta(text) => json!({ "type": "delta", "text": text }),
            StreamItem::ToolCall(call) => {
                json!({ "type": "tool_call", "toolCall": value_of(call) })
            }
            StreamItem::Restart { attempt, reason } => {
                json!({ "type": "restart", "attempt": attempt, "reason": reason })
            }
            StreamItem::Done(result) => json!({ "type": "done", "result": value_of(result) }),
        }
    }

    /// Appends the item's JSON (the same as [`StreamItem::to_json`]'s) to `out`: written
    /// directly for the items a stream is made of, deltas, without building a `Value`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            StreamItem::Delta(text) => {
                out.push_str(r#"{"type":"delta","text":"#);
                record_json::string(out, text);
                out.push('}');
            }
            StreamItem::Start { run_id } => {
                out.push_str(r#"{"type":"start","runId":"#);
                record_json::string(out, run_id);
                out.push('}');
            }
            StreamItem::ToolCall(_) | StreamItem::Restart { .. } | StreamItem::Done(_) => {
                out.push_str(&crate::core::json::text(&self.to_json()));
            }
        }
    }
}

/// Agent-level events (`agent.on(...)`).
#[derive(Debug, Clone)]
pub enum AgentEvent {
    RunStart(Run),
    RunComplete(Run, RunResult),
    RunError(Run, Error),
    Retry {
        run: Run,
        attempt: u32,
        delay_ms: u64,
        error: Error,
    },
    Chunk {
        run_id: String,
        session_id: String,
        text: String,
    },
    /// `summary_buffer` stored a new summary.
    Summarized {
        run_id: String,
        summary: Summary,
    },
    /// A summarisation failed; the call went on with `token_window`.
    SummaryFailed {
        run_id: String,
        session_id: String,
        error: Error,
    },
}

impl AgentEvent {
    pub fn name(&self) -> &'static str {
        match self {
            AgentEvent::RunStart(_) => "run:start",
            AgentEvent::RunComplete(..) => "run:complete",
            AgentEvent::RunError(..) => "run:error",
            AgentEvent::Retry { .. } => "llm:retry",
            AgentEvent::Chunk { .. } => "llm:chunk",
            AgentEvent::Summarized { .. } => "context:summarized",
            AgentEvent::SummaryFailed { .. } => "context:summary_failed",
        }
    }

    pub const NAMES: [&'static str; 7] = [
        "run:start",
        "run:complete",
        "run:error",
        "llm:retry",
        "llm:chunk",
        "context:summarized",
        "context:summary_failed",
    ];
}

impl crate::core::events::BusEvent for AgentEvent {
    const NAMES: &'static [&'static str] = &AgentEvent::NAMES;

    fn name(&self) -> &'static str {
        AgentEvent::name(self)
    }

    fn to_json(&self) -> serde_json::Value {
        let err = |e: &Error| json!({ "code": e.code.as_str(), "message": e.message, "status": e.status, "retryable": e.retryable });
        match self {
            AgentEvent::RunStart(run) => json!({ "type": self.name(), "run": value_of(run) }),
            AgentEvent::RunComplete(run, result) => {
                json!({ "type": self.name(), "run": value_of(run), "result": value_of(result) })
            }
            AgentEvent::RunError(run, e) => {
                json!({ "type": self.name(), "run": value_of(run), "error": err(e) })
            }
            AgentEvent::Retry {
                run,
                attempt,
                delay_ms,
                error,
            } => json!({
                "type": self.name(), "runId": run.id, "sessionId": run.session_id,
                "attempt": attempt, "delayMs": delay_ms, "error": err(error)
            }),
            AgentEvent::Chunk {
                run_id,
                session_id,
                text,
            } => {
                json!({ "type": self.name(), "runId": run_id, "sessionId": session_id, "text": text })
            }
            AgentEvent::Summarized { run_id, summary } => json!({
                "type": self.name(), "runId": run_id, "sessionId": summary.session_id, "summary": value_of(summary)
            }),
            AgentEvent::SummaryFailed {
                run_id,
                session_id,
                error,
            } => json!({
                "type": self.name(), "runId": run_id, "sessionId": session_id, "error": err(error)
            }),
        }
    }
}

/// Everything one turn needs.
pub struct Turn<'a> {
    pub manager: &'a SessionManager,
    pub model: &'a dyn ChatModel,
    pub timer: &'a dyn Timer,
    pub settings: &'a AgentSettings,
    pub cancel: Option<&'a dyn CancelSignal>,
    pub stream: bool,
    pub on_event: &'a dyn Fn(&AgentEvent),
    pub on_item: &'a dyn Fn(StreamItem),
}

/// The stops of a wait (see [`Turn::stops`]).
type Stops<'s> = LocalBoxFuture<'s, Stop>;

enum Stop {
    Cancelled,
    Deadline,
    Idle,
}

impl Stop {
    fn error(self, settings: &AgentSettings) -> Error {
        match self {
            Stop::Cancelled => Error::aborted(),
            Stop::Deadline => Error::new(
                ErrorCode::LlmTimeout,
                format!(
                    "the model call took longer than timeoutMs ({} ms)",
                    settings.timeout_ms
                ),
            ),
            Stop::Idle => Error::new(
                ErrorCode::LlmTimeout,
                format!(
                    "the model sent nothing for idleTimeoutMs ({} ms)",
                    settings.idle_timeout_ms
                ),
            )
            .with_retryable(true),
        }
    }
}

/// The reply as it accumulates, and its stored message once there is one.
#[derive(Default)]
struct Reply {
    /// What this attempt received.
    response: ChatResponse,
    message: Option<Message>,
    last_flush: f64,
    /// The stored text a continued reply grows from (empty for a new reply).
    prefix: String,
    /// Continuing: a failure leaves the reply `interrupted`, to be continued again.
    resuming: bool,
}

impl Reply {
    fn content(&self) -> String {
        let mut text = self.prefix.clone();
        text.push_str(&self.response.content);
        text
    }
}

/// How a turn begins: with the user's message (or none, after tool results), or by continuing
/// the interrupted reply that ends the session.
enum Begin {
    Input(Option<String>),
    Continue,
    /// A new answer to a user message (see [`Turn::regenerate`]).
    Regenerate(Option<String>),
}

impl<'a> Turn<'a> {
    /// Waits for `fut`, unless the caller cancels, the deadline passes, or (with `idle`) nothing
    /// comes for the idle timeout.
    async fn guarded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T>>,
        deadline: f64,
        idle: bool,
    ) -> Result<T> {
        let since = Cell::new(self.manager.now());
        let mut stops = self.stops(deadline, idle.then_some(&since));
        self.race(fut, &mut stops).await
    }

    /// What may end a wait, armed once for any number of waits: the caller's cancellation, the
    /// whole-call deadline, and with `idle` the idle timeout counted from the instant in it (the
    /// start of the current wait, which the caller moves before each one). The idle timer is
    /// not re-armed per wait: when it fires it sleeps again for what is left of the timeout
    /// since that instant, and ends only once a whole timeout has passed in one wait.
    fn stops<'s>(&'s self, deadline: f64, idle: Option<&'s Cell<f64>>) -> Stops<'s> {
        let remaining = (deadline - self.manager.now()).max(0.0) as u64;
        let mut stops: Vec<LocalBoxFuture<'s, Stop>> = Vec::with_capacity(3);
        let deadline_sleep = self.timer.sleep(remaining);
        stops.push(Box::pin(async move {
            deadline_sleep.await;
            Stop::Deadline
        }));
        if let Some(since) = idle {
            let idle_ms = self.settings.idle_timeout_ms;
            let first = self.timer.sleep(idle_ms);
            stops.push(Box::pin(async move {
                first.await;
                loop {
                    let waited = self.manager.now() - since.get();
                    if waited >= idle_ms as f64 {
                        return Stop::Idle;
                    }
                    self.timer
                        .sleep((idle_ms as f64 - waited).ceil() as u64)
                        .await;
                }
            }));
        }
        if let Some(c) = self.cancel {
            let cancelled = c.cancelled();
            stops.push(Box::pin(async move {
                cancelled.await;
                Stop::Cancelled
            }));
        }
        Box::pin(async move { future::select_all(stops).await.0 })
    }

    /// Waits for `fut` unless one of `stops` ends first. `fut` is polled first, so what is
    /// ready wins over a stop that fired meanwhile.
    async fn race<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T>>,
        stops: &mut Stops<'_>,
    ) -> Result<T> {
        match future::select(std::pin::pin!(fut), stops).await {
            Either::Left((out, _)) => out,
            Either::Right((stop, _)) => Err(stop.error(self.settings)),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.is_cancelled())
    }

    /// Runs one turn. `input` is the user's message; `None` continues from the stored history
    /// (e.g. after tool results were added).
    pub async fn run(&self, session_id: &str, input: Option<String>) -> Result<RunResult> {
        self.turn(session_id, Begin::Input(input)).await
    }

    /// Continues the `interrupted` assistant reply that ends the session: the model carries on
    /// from its stored text (as an assistant prefill where the provider takes one, Anthropic;
    /// after an instruction to continue otherwise) and the same message grows, `complete` at
    /// the end. The result's `content` is the whole reply; deltas carry only the new text.
    /// `INVALID_ARGUMENT` when the session's last message is not an interrupted reply with text.
    pub async fn resume(&self, session_id: &str) -> Result<RunResult> {
        self.turn(session_id, Begin::Continue).await
    }

    /// A new answer, an alternative to the old one (which stays on its branch): to the user
    /// message `message_id` names (or, naming a reply, the user message it answers), by default
    /// the active history's last user message. Streams and stores like [`run`](Self::run).
    pub async fn regenerate(
        &self,
        session_id: &str,
        message_id: Option<String>,
    ) -> Result<RunResult> {
        self.turn(session_id, Begin::Regenerate(message_id)).await
    }

    async fn turn(&self, session_id: &str, begin: Begin) -> Result<RunResult> {
        if self.cancelled() {
            return Err(Error::aborted());
        }
        let deadline = self.manager.now() + self.settings.timeout_ms as f64;
        // One turn at a time per session: the whole turn holds the session's lock.
        let _guard = self
            .guarded(
                async { Ok(self.manager.lock(session_id).await) },
                deadline,
                false,
            )
            .await?;
        let session = self.manager.require(session_id).await?;
        let mut reply = Reply::default();
        match begin {
            Begin::Input(input) => {
                if let Some(text) = &input {
                    self.check_new_turn(&session, text)?;
                }
                if let Some(text) = input {
                    let user = NewMessage {
                        role: "user".into(),
                        content: Some(serde_json::Value::String(text)),
                        ..NewMessage::default()
                    };
                    self.manager.add_message_locked(session_id, user).await?;
                }
            }
            Begin::Regenerate(message_id) => {
                self.manager
                    .regenerate_from_locked(session_id, message_id.as_deref())
                    .await?;
            }
            Begin::Continue => {
                let message = self.interrupted_reply(session_id).await?;
                // What the request carries of the stored text (a prefill may be trimmed).
                reply.prefix = self
                    .model
                    .provider()
                    .continued_text(&message.content)
                    .to_owned();
                reply.resuming = true;
                reply.message = Some(message);
            }
        }

        let mut run = self.manager.new_run(session_id);
        run.agent = Some(self.settings.name.clone());
        run.provider = Some(self.model.provider().as_str().to_owned());
        run.model = Some(self.model.model().to_owned());
        run.status = RunStatus::Running;
        run.started_at = Some(self.manager.now());
        self.manager.put_run_locked(&run, false).await?;
        (self.on_event)(&AgentEvent::RunStart(run.clone()));
        (self.on_item)(StreamItem::Start {
            run_id: run.id.clone(),
        });

        let resuming = reply.resuming;
        let reply = RefCell::new(reply);
        let outcome = match self.context(session_id, &mut run, deadline).await {
            Ok(mut context) => {
                if resuming && !self.model.provider().supports_prefill() {
                    context.messages.push(self.continue_instruction(session_id));
                }
                let request = ChatRequest {
                    system: self.settings.instructions.as_deref(),
                    messages: &context.messages,
                    tools: &self.settings.tools,
                    stream: self.stream,
                };
                self.call_with_retries(&mut run, &request, &reply, deadline)
                    .await
            }
            Err(e) => Err(e),
        };
        let mut reply = reply.into_inner();
        match outcome {
            Ok(()) => self.finish(session_id, run, reply).await,
            Err(error) => {
                let status = if error.code == ErrorCode::Aborted || reply.resuming {
                    MessageStatus::Interrupted
                } else {
                    MessageStatus::Error
                };
                // Whatever text arrived is kept, marked for what it is.
                self.store_reply(session_id, &run, &mut reply, status)
                    .await?;
                let now = self.manager.now();
                run.status = if error.code == ErrorCode::Aborted {
                    RunStatus::Aborted
                } else {
                    RunStatus::Failed
                };
                run.ended_at = Some(now);
                run.duration_ms = run.started_at.map(|s| (now - s).max(0.0));
                run.error_code = Some(error.code.as_str().to_owned());
                run.error_message = Some(error.message.clone());
                if let Some(u) = reply.response.usage {
                    run.usage.add(&u);
                }
                self.manager.put_run_locked(&run, true).await?;
                (self.on_event)(&AgentEvent::RunError(run, error.clone()));
                Err(error)
            }
        }
    }

    /// The session's last message, when it is an interrupted assistant reply with text. Reads
    /// the newest message only, however long the session.
    async fn interrupted_reply(&self, session_id: &str) -> Result<Message> {
        let newest = self.manager.history(session_id, Some(1)).await?;
        match newest.last() {
            Some(m)
                if m.role == crate::core::model::Role::Assistant
                    && m.status == MessageStatus::Interrupted
                    && !m.content.is_empty() =>
            {
                Ok(m.clone())
            }
            _ => Err(Error::invalid_argument(format!(
                "nothing to continue: the last message of session {} is not an interrupted assistant reply with text", crate::core::json::quote(session_id)))),
        }
    }

    /// The user turn that asks a provider without prefill to carry on; sent, never stored.
    fn continue_instruction(&self, session_id: &str) -> Message {
        Message {
            id: String::new(),
            session_id: session_id.to_owned(),
            seq: u64::MAX,
            parent: Default::default(),
            role: crate::core::model::Role::User,
            content: CONTINUE_INSTRUCTION.to_owned(),
            name: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            status: MessageStatus::Complete,
            created_at: self.manager.now(),
            tokens: estimate_message_tokens(CONTINUE_INSTRUCTION, ""),
            run_id: None,
            metadata: None,
            payload: None,
        }
    }

    /// A new user turn that cannot fit the budget on its own is refused before anything is stored.
    fn check_new_turn(&self, session: &Session, text: &str) -> Result<()> {
        let budget = match self.settings.context.strategy {
            Strategy::TokenWindow { budget } | Strategy::SummaryBuffer { budget, .. } => budget,
            Strategy::Full | Strategy::BufferWindow { .. } => return Ok(()),
        };
        let effective = (f64::from(budget) / calibration(session)) as u32;
        let needed =
            u64::from(self.settings.fixed_tokens()) + u64::from(estimate_message_tokens(text, ""));
        if needed > u64::from(effective) {
            return Err(too_large(needed, effective));
        }
        Ok(())
    }

    async fn call_with_retries(
        &self,
        run: &mut Run,
        request: &ChatRequest<'_>,
        reply: &RefCell<Reply>,
        deadline: f64,
    ) -> Result<()> {
        let mut retry = 0u32;
        loop {
            run.attempts += 1;
            let mut seen = false;
            let result = self.attempt(request, reply, run, deadline, &mut seen).await;
            let error = match result {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let time_left = deadline - self.manager.now();
            if self.cancelled()
                || !self.settings.retry.should_retry(retry, &error, seen)
                || time_left <= 0.0
            {
                return Err(error);
            }
            let jitter = self.manager.rng().next_f64();
            let delay = self
                .settings
                .retry
                .delay_for(retry, error.retry_after_ms, jitter);
            if delay as f64 >= time_left {
                return Err(error);
            }
            retry += 1;
            (self.on_event)(&AgentEvent::Retry {
                run: run.clone(),
                attempt: retry,
                delay_ms: delay,
                error: error.clone(),
            });
            if seen {
                // The store drops the voided attempt's text, then the consumer drops what it
                // showed: that text must not outlive the restart (in history, in other tabs) if
                // the next attempt fails before any text, or the backoff is aborted or times
                // out. Stored first, so whoever sees the `restart` reads the rewritten reply.
                self.void_attempt(reply).await?;
                (self.on_item)(StreamItem::Restart {
                    attempt: retry,
                    reason: error.code.as_str().to_owned(),
                });
            }
            let sleep = self.timer.sleep(delay);
            self.guarded(
                async {
                    sleep.await;
                    Ok(())
                },
                deadline,
                false,
            )
            .await?;
        }
    }

    /// Rewrites the stored reply to what it was before the voided attempt: empty for a new
    /// reply, the text it continues from for a continue; still `interrupted`.
    async fn void_attempt(&self, reply: &RefCell<Reply>) -> Result<()> {
        let mut r = reply.take();
        r.response = ChatResponse::default();
        r.last_flush = f64::NEG_INFINITY;
        let stored = match &mut r.message {
            Some(m) => {
                m.content = r.prefix.clone();
                m.tool_calls = Vec::new();
                m.status = MessageStatus::Interrupted;
                m.tokens = crate::core::context::estimate_message_tokens(&m.content, "");
                self.manager.replace_message_locked(m).await.map(|_| ())
            }
            None => Ok(()),
        };
        reply.replace(r);
        stored
    }

    /// One attempt. `seen` becomes true once a streamed delta or tool call was passed on to the
    /// caller (a `generate` shows nothing before the whole reply is in).
    async fn attempt(
        &self,
        request: &ChatRequest<'_>,
        reply: &RefCell<Reply>,
        run: &Run,
        deadline: f64,
        seen: &mut bool,
    ) -> Result<()> {
        reply.borrow_mut().response = ChatResponse::default();
        // Armed once for the attempt, not per chunk: `waiting` is where the current wait began.
        let waiting = Cell::new(self.manager.now());
        let mut stops = self.stops(deadline, Some(&waiting));
        let mut source = self.race(self.model.open(request), &mut stops).await?;
        loop {
            waiting.set(self.manager.now());
            let next = self.race(source.next_event(), &mut stops).await;
            let Some(event) = next? else { return Ok(()) };
            if self.stream && matches!(event, StreamEvent::TextDelta(_) | StreamEvent::ToolCall(_))
            {
                *seen = true;
            }
            reply.borrow_mut().response.apply(&event);
            match event {
                StreamEvent::TextDelta(text) => {
                    (self.on_event)(&AgentEvent::Chunk {
                        run_id: run.id.clone(),
                        session_id: run.session_id.clone(),
                        text: text.clone(),
                    });
                    (self.on_item)(StreamItem::Delta(text));
                    if self.stream {
                        self.keep_partial(run, reply).await?;
                    }
                }
                StreamEvent::ToolCall(call) => (self.on_item)(StreamItem::ToolCall(call)),
                StreamEvent::Usage(_) | StreamEvent::Finish { .. } | StreamEvent::Model(_) => {}
            }
        }
    }

    /// Stores a streamed reply's text as it grows (status `interrupted` until it completes), at
    /// its first delta and then at most once per [`PARTIAL_FLUSH_MS`].
    async fn keep_partial(&self, run: &Run, reply: &RefCell<Reply>) -> Result<()> {
        let now = self.manager.now();
        let due = {
            let r = reply.borrow();
            r.message.is_none() || now - r.last_flush >= PARTIAL_FLUSH_MS
        };
        if due {
            let mut r = reply.take();
            let stored = self
                .store_reply(&run.session_id, run, &mut r, MessageStatus::Interrupted)
                .await;
            r.last_flush = now;
            reply.replace(r);
            stored?;
        }
        Ok(())
    }

    /// Writes the reply as one assistant message: added the first time, rewritten after. An
    /// unfinished reply with nothing in it is not stored; a complete one always is. An
    /// unfinished attempt that received nothing leaves the stored text (the reply being
    /// continued; a restart has already voided an earlier attempt's) as it is.
    async fn store_reply(
        &self,
        session_id: &str,
        run: &Run,
        reply: &mut Reply,
        status: MessageStatus,
    ) -> Result<()> {
        let content = reply.content();
        let r = &reply.response;
        let empty = r.content.is_empty() && r.tool_calls.is_empty();
        if reply.message.is_none() && empty && status != MessageStatus::Complete {
            return Ok(());
        }
        match &mut reply.message {
            Some(m) => {
                if !empty || status == MessageStatus::Complete {
                    m.content = content;
                    m.tool_calls = r.tool_calls.clone();
                }
                m.status = status;
                m.tokens = crate::core::context::estimate_message_tokens(&m.content, "");
                self.manager.replace_message_locked(m).await?;
            }
            None => {
                let new = NewMessage {
                    role: "assistant".into(),
                    content: Some(serde_json::Value::String(content)),
                    name: Some(self.settings.name.clone()),
                    tool_calls: r.tool_calls.clone(),
                    status: Some(status),
                    run_id: Some(run.id.clone()),
                    ..NewMessage::default()
                };
                reply.message = Some(self.manager.add_message_locked(session_id, new).await?);
            }
        }
        Ok(())
    }

    async fn finish(&self, session_id: &str, mut run: Run, mut reply: Reply) -> Result<RunResult> {
        // An empty complete reply is still the model's answer: it is stored so history shows
        // the turn happened.
        self.store_reply(session_id, &run, &mut reply, MessageStatus::Complete)
            .await?;
        let message_id = reply
            .message
            .as_ref()
            .map(|m| m.id.clone())
            .unwrap_or_default();
        let content = reply.content();
        let response = reply.response;
        let now = self.manager.now();
        run.status = RunStatus::Completed;
        run.ended_at = Some(now);
        run.duration_ms = run.started_at.map(|s| (now - s).max(0.0));
        let mut usage = response.usage.unwrap_or_default();
        if usage.total_tokens == 0 {
            usage.total_tokens = usage.input_tokens + usage.output_tokens;
        }
        run.usage.add(&usage);
        if let Some(m) = &response.model {
            run.model = Some(m.clone());
        }
        self.manager.put_run_locked(&run, true).await?;
        let result = RunResult {
            content,
            session_id: session_id.to_owned(),
            message_id,
            run_id: run.id.clone(),
            usage: run.usage,
            finish_reason: response.finish_reason,
            model: run.model.clone(),
            tool_calls: response.tool_calls,
        };
        (self.on_event)(&AgentEvent::RunComplete(run, result.clone()));
        (self.on_item)(StreamItem::Done(result.clone()));
        Ok(result)
    }
}

#[cfg(test)]
mod tests;
