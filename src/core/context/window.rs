//! Choosing the newest messages that fit, whatever the limit (tokens, messages or none), with the
//! invariants every strategy keeps:
//!
//! - the window is a suffix of the history, opening on a user turn whenever anything older was
//!   left out (and, for providers that require it, even when nothing was);
//! - a tool call and its results are kept or dropped together: a tool result whose call is not
//!   in the window is dropped, never sent as a leading orphan;
//! - the newest turn (from the last user message on) is kept whole: a token budget it does not
//!   fit is `CONTEXT_TOO_LARGE`; a message count never cuts into it;
//! - an assistant message that failed (`error`) is not sent; one that was `interrupted` is sent
//!   with the text it has but without its tool calls (they may be half-streamed); an assistant
//!   message with nothing left to send is skipped. Other roles are sent whatever their status.

use std::borrow::Cow;

use serde::Serialize;

use crate::core::error::{Error, ErrorCode, Result};
use crate::core::model::{Message, MessageStatus, Role};

/// Why a message of the examined range is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// An assistant reply whose call failed (`status: "error"`).
    Failed,
    /// An assistant message with no text and no tool calls to send.
    Empty,
    /// A tool result whose call is not in the window.
    OrphanToolResult,
    /// Before the first user turn, for a provider that requires the request to open with one.
    BeforeUserTurn,
    /// Older than the window.
    Window,
}

/// `None` when the message may be sent (perhaps without its tool calls, see [`sendable_form`]).
pub fn excluded(m: &Message) -> Option<DropReason> {
    if m.role != Role::Assistant {
        return None;
    }
    match m.status {
        MessageStatus::Error => Some(DropReason::Failed),
        MessageStatus::Interrupted if m.content.is_empty() => Some(DropReason::Empty),
        MessageStatus::Complete if m.content.is_empty() && m.tool_calls.is_empty() => {
            Some(DropReason::Empty)
        }
        _ => None,
    }
}

/// The message as it is sent: an interrupted reply loses its (possibly partial) tool calls.
pub fn sendable_form(m: &Message) -> Cow<'_, Message> {
    if m.role == Role::Assistant && m.status != MessageStatus::Complete && !m.tool_calls.is_empty()
    {
        let mut c = m.clone();
        c.tool_calls.clear();
        Cow::Owned(c)
    } else {
        Cow::Borrowed(m)
    }
}

/// Whether a message may carry tool calls into the window.
fn calls_of(m: &Message) -> &[crate::core::model::ToolCall] {
    if m.role == Role::Assistant && m.status == MessageStatus::Complete {
        &m.tool_calls
    } else {
        &[]
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_tokens: Option<u32>,
    pub max_messages: Option<usize>,
}

/// What [`select`] keeps of a run of messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Indices of the messages sent, ascending.
    pub kept: Vec<usize>,
    /// Messages of the input not sent, with why, ascending.
    pub dropped: Vec<(usize, DropReason)>,
    /// Sum of the kept messages' token estimates.
    pub tokens: u32,
}

/// Index of the first message of the newest turn: the last sendable user message, else the last
/// sendable message that is not a tool result (a window that kept only trailing results would
/// drop them as orphans and send nothing), else the last sendable message.
pub fn newest_turn_start(messages: &[Message]) -> Option<usize> {
    let sendable = |i: &usize| excluded(&messages[*i]).is_none();
    let newest = |pick: &dyn Fn(&Message) -> bool| {
        (0..messages.len())
            .rev()
            .filter(sendable)
            .find(|&i| pick(&messages[i]))
    };
    newest(&|m| m.role == Role::User)
        .or_else(|| newest(&|m| m.role != Role::Tool))
        .or_else(|| newest(&|_| true))
}

pub fn too_large(needed: u64, limit: u32) -> Error {
    Error::new(
        ErrorCode::ContextTooLarge,
        format!(
            "the newest turn needs about {needed} tokens of context but the budget leaves {limit}"
        ),
    )
}

/// The newest messages of `messages` (oldest first) within `limits`. `complete` says whether
/// `messages` reaches back to the start of what may be sent (if not, something older exists and
/// the window counts as cut). `user_first`: the provider needs the first message to be a user's.
pub fn select(
    messages: &[Message],
    limits: Limits,
    complete: bool,
    user_first: bool,
) -> Result<Selection> {
    let n = messages.len();
    let reasons: Vec<Option<DropReason>> = messages.iter().map(excluded).collect();
    let turn = newest_turn_start(messages).unwrap_or(n);
    let mut start = n;
    let mut tokens: u64 = 0;
    let mut count = 0usize;
    for i in (0..n).rev() {
        if reasons[i].is_some() {
            continue;
        }
        let t = tokens + u64::from(messages[i].tokens);
        let over_tokens = limits.max_tokens.is_some_and(|m| t > u64::from(m));
        let over_count = limits.max_messages.is_some_and(|m| count + 1 > m);
        if over_tokens || over_count {
            if i < turn {
                break;
            }
            if over_tokens {
                let needed: u64 = (turn..n)
                    .filter(|&j| reasons[j].is_none())
                    .map(|j| u64::from(messages[j].tokens))
                    .sum();
                return Err(too_large(needed, limits.max_tokens.unwrap_or(0)));
            }
        }
        tokens = t;
        count += 1;
        start = i;
    }
    // Skipped (excluded) messages just before the first kept one are outside the window too.
    let mut reasons_out = reasons;
    let cut = (0..start).any(|i| reasons_out[i].is_none()) || !complete;
    for r in reasons_out.iter_mut().take(start) {
        r.get_or_insert(DropReason::Window);
    }
    if cut || user_first {
        let reason = if cut {
            DropReason::Window
        } else {
            DropReason::BeforeUserTurn
        };
        if let Some(u) =
            (start..n).find(|&i| reasons_out[i].is_none() && messages[i].role == Role::User)
        {
            for r in reasons_out.iter_mut().take(u).skip(start) {
                r.get_or_insert(reason);
            }
            start = u;
        }
    }
    // Tool results answer calls made earlier in the window, or are dropped.
    let mut calls: Vec<&str> = Vec::new();
    for i in start..n {
        if reasons_out[i].is_some() {
            continue;
        }
        let m = &messages[i];
        calls.extend(calls_of(m).iter().map(|c| c.id.as_str()));
        if m.role == Role::Tool
            && !m
                .tool_call_id
                .as_deref()
                .is_some_and(|id| calls.contains(&id))
        {
            reasons_out[i] = Some(DropReason::OrphanToolResult);
        }
    }
    let mut sel = Selection {
        kept: Vec::new(),
        dropped: Vec::new(),
        tokens: 0,
    };
    let mut sum: u64 = 0;
    for (i, r) in reasons_out.into_iter().enumerate() {
        match r {
            None => {
                sum += u64::from(messages[i].tokens);
                sel.kept.push(i);
            }
            Some(r) => sel.dropped.push((i, r)),
        }
    }
    sel.tokens = u32::try_from(sum).unwrap_or(u32::MAX);
    Ok(sel)
}

#[cfg(test)]
#[path = "window_tests.rs"]
pub(crate) mod tests;
