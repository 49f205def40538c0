//! What a model would be sent, without calling it: `getMessagesForLLM` (a session's messages in
//! the OpenAI chat shape, PraisonAI's `{ maxTokens, maxMessages, strategy: "recent" }`) and
//! `previewContext` (exactly what an agent's next call sends, with the decisions taken). Both go
//! through [`build`], as a call does, so a preview is never an approximation.

use crate::core::record_read::{Fields, FromValue, ReadResult};
use serde_json::{json, Value};

use crate::core::agent::AgentSettings;
use crate::core::context::build::{build, Built, Inputs, SummaryChoice};
use crate::core::context::{estimate_message_tokens, ContextConfig, ContextOptions, Strategy};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::json::whole_number;
use crate::core::llm::{openai_chat_messages, Provider};
use crate::core::model::{Message, MessageStatus, Millis, Role, Session};
use crate::core::store::Store;

/// `getMessagesForLLM`'s options. Numbers are read as JavaScript sends them and checked here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagesForLlmOptions {
    pub max_tokens: Option<f64>,
    pub max_messages: Option<f64>,
    pub strategy: Option<String>,
}

/// The context `getMessagesForLLM` builds: `maxTokens` is a `token_window`, `maxMessages` alone a
/// `buffer_window`, neither the full history; the session's own `maxMessages` caps it all.
pub fn messages_for_llm_config(
    session: &Session,
    options: &MessagesForLlmOptions,
) -> Result<ContextConfig> {
    if let Some(s) = options.strategy.as_deref() {
        if s != "recent" {
            return Err(Error::invalid_argument(format!(
                "strategy {} is not known here (expected \"recent\")",
                crate::core::json::quote(s)
            )));
        }
    }
    let budget =
        whole_number(options.max_tokens, "maxTokens")?.map(|t| t.min(u32::MAX as usize) as u32);
    let max_messages = whole_number(options.max_messages, "maxMessages")?;
    let strategy = match (budget, max_messages) {
        (Some(0), _) | (_, Some(0)) => {
            return Err(Error::invalid_argument(
                "maxTokens and maxMessages must be at least 1",
            ))
        }
        (Some(budget), _) => Strategy::TokenWindow { budget },
        (None, Some(window_size)) => Strategy::BufferWindow { window_size },
        (None, None) => Strategy::Full,
    };
    Ok(ContextConfig {
        strategy,
        max_messages,
    }
    .capped(session_cap(session)))
}

/// `getMessagesForLLM`: what a model should see of `session`, ready for any chat-completions
/// client.
pub async fn messages_for_llm(
    store: &dyn Store,
    session: &Session,
    options: &MessagesForLlmOptions,
) -> Result<Vec<Value>> {
    let inputs = Inputs {
        config: messages_for_llm_config(session, options)?,
        ..plain_inputs(session)
    };
    let built = build(store, session, &inputs).await?;
    openai_chat_messages(&built.messages)
}

/// `previewContext`'s options: the agent's context settings overridden call by call, plus the
/// instructions and a user message about to be sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviewOptions {
    pub strategy: Option<String>,
    pub window_size: Option<u32>,
    pub budget: Option<u32>,
    pub max_tokens: Option<u32>,
    pub max_messages: Option<u32>,
    pub threshold: Option<f64>,
    pub target: Option<f64>,
    pub instructions: Option<String>,
    pub input: Option<String>,
}

impl FromValue for MessagesForLlmOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["maxTokens", "maxMessages", "strategy"], &[])?;
        Ok(MessagesForLlmOptions {
            max_tokens: f.opt_number("maxTokens")?,
            max_messages: f.opt_number("maxMessages")?,
            strategy: f.opt_string("strategy")?,
        })
    }
}

impl FromValue for PreviewOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(
            &[
                "strategy",
                "windowSize",
                "budget",
                "maxTokens",
                "maxMessages",
                "threshold",
                "target",
                "instructions",
                "input",
            ],
            &["window_size"],
        )?;
        let c = ContextOptions::read(&f)?;
        Ok(PreviewOptions {
            strategy: c.strategy,
            window_size: c.window_size,
            budget: c.budget,
            max_tokens: f.opt_count32("maxTokens")?,
            max_messages: c.max_messages,
            threshold: c.threshold,
            target: c.target,
            instructions: f.opt_string("instructions")?,
            input: f.opt_string("input")?,
        })
    }
}

crate::deserialize_via_value!(MessagesForLlmOptions, PreviewOptions);

/// The agent a preview is for: its settings and the provider of its model, if it has one.
#[derive(Debug, Clone, Copy)]
pub struct PreviewAgent<'a> {
    pub settings: &'a AgentSettings,
    pub provider: Option<Provider>,
}

/// What the preview is built from, before any storage is read.
#[derive(Debug, Clone)]
pub struct PreviewPlan {
    pub config: ContextConfig,
    pub fixed_tokens: u32,
    pub user_first: bool,
    pub system: Option<String>,
}

/// The decisions of `previewContext`: the agent's context settings (the defaults without an
/// agent), with the options on top. Override options without a strategy name imply the strategy
/// they belong to (`threshold`/`target`: summary_buffer, `windowSize`: buffer_window,
/// `budget`/`maxTokens`: token_window).
pub fn preview_plan(
    session: &Session,
    agent: Option<PreviewAgent<'_>>,
    options: &PreviewOptions,
) -> Result<PreviewPlan> {
    let (inputs, system) = match agent {
        Some(a) => (
            a.settings.context_inputs(session, a.provider),
            a.settings.instructions.clone(),
        ),
        None => (
            Inputs {
                config: ContextConfig::default().capped(session_cap(session)),
                ..plain_inputs(session)
            },
            None,
        ),
    };
    let mut config = inputs.config;
    let o = options;
    let overrides = o.strategy.is_some()
        || o.budget.is_some()
        || o.max_tokens.is_some()
        || o.window_size.is_some()
        || o.threshold.is_some()
        || o.target.is_some();
    if overrides {
        let implied = if o.threshold.is_some() || o.target.is_some() {
            "summary_buffer"
        } else if o.window_size.is_some() {
            "buffer_window"
        } else {
            "token_window"
        };
        let c = ContextOptions {
            strategy: Some(o.strategy.clone().unwrap_or_else(|| implied.to_owned())),
            window_size: o.window_size,
            budget: o.budget.or(o.max_tokens),
            max_messages: None,
            threshold: o.threshold,
            target: o.target,
        }
        .parse(ErrorCode::InvalidArgument)?;
        config.strategy = c.strategy;
    }
    if let Some(m) = o.max_messages {
        config = config.capped(Some(m as usize));
    }
    let system = o.instructions.clone().or(system);
    // An agent counts its own instructions and tools; without one, only the given instructions.
    let fixed_tokens = match agent {
        Some(_) => inputs.fixed_tokens,
        None => system
            .as_deref()
            .map_or(0, |s| estimate_message_tokens(s, "")),
    };
    Ok(PreviewPlan {
        config,
        fixed_tokens,
        user_first: inputs.user_first,
        system,
    })
}

/// `previewContext`: the context the next call on `session` would send (after `options.input`,
/// when given, as the newest user message), as the JSON object the API returns.
pub async fn preview_context(
    store: &dyn Store,
    session: &Session,
    agent: Option<PreviewAgent<'_>>,
    options: PreviewOptions,
    now: Millis,
) -> Result<Value> {
    let plan = preview_plan(session, agent, &options)?;
    let pending = options.input.map(|text| Message {
        id: "pending".into(),
        session_id: session.id.clone(),
        seq: session.next_seq,
        parent: Default::default(),
        role: Role::User,
        tokens: estimate_message_tokens(&text, ""),
        content: text,
        name: None,
        tool_calls: Vec::new(),
        tool_call_id: None,
        status: MessageStatus::Complete,
        created_at: now,
        run_id: None,
        metadata: None,
        payload: None,
    });
    let inputs = Inputs {
        config: plan.config,
        fixed_tokens: plan.fixed_tokens,
        user_first: plan.user_first,
        pending: pending.as_ref(),
        summary: SummaryChoice::Stored,
    };
    let built = build(store, session, &inputs).await?;
    preview_json(
        &built,
        plan.system.as_deref(),
        plan.config,
        pending.is_some(),
    )
}

fn session_cap(session: &Session) -> Option<usize> {
    session.max_messages.map(|m| m as usize)
}

/// A build of the stored history alone: nothing fixed, no provider rule, no pending message.
fn plain_inputs<'a>(session: &Session) -> Inputs<'a> {
    Inputs {
        config: ContextConfig::default().capped(session_cap(session)),
        fixed_tokens: 0,
        user_first: false,
        pending: None,
        summary: SummaryChoice::Stored,
    }
}

fn preview_json(
    built: &Built,
    system: Option<&str>,
    config: ContextConfig,
    pending: bool,
) -> Result<Value> {
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
    Ok(json!({
        "strategy": config.strategy.name(),
        "system": system,
        "messages": openai_chat_messages(&built.messages)?,
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
    }))
}

#[cfg(test)]
mod tests;
