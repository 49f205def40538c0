//! Building a context from storage: reads the newest messages page by page, only as far back as
//! the strategy needs (so a `token_window` build costs the window, not the history), then applies
//! [`select`] and, for `summary_buffer`, [`plan`]. The run engine and `previewContext` both call
//! [`build`], so a preview is exactly what a call sends.

use crate::core::error::{Error, Result};
use crate::core::model::{Message, Role, Session, Summary};
use crate::core::store::{MessageQuery, Store};

use super::summary::{self, summary_message, summary_reserve};
use super::window::{excluded, select, sendable_form, too_large, DropReason, Limits};
use super::{ContextConfig, Strategy};

const FIRST_PAGE: usize = 64;
const MAX_PAGE: usize = 4096;

/// Everything a build needs besides the stored history.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub config: ContextConfig,
    /// Estimated tokens of what is always sent: the system prompt and the tool definitions.
    pub fixed_tokens: u32,
    /// The provider wants the first non-system message to be the user's (Anthropic, Gemini).
    pub user_first: bool,
    /// A user message about to be added (previews): counted and shown as the newest.
    pub pending: Option<&'a Message>,
    /// Use this summary rather than the stored ones (just written, or being checked).
    pub summary: SummaryChoice,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SummaryChoice {
    /// The session's active stored summary, for `summary_buffer`; none otherwise.
    Stored,
    Given(Summary),
}

/// A summarisation the build found due: fold `messages` (with `previous`) into a new summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryJob {
    pub previous: Option<Summary>,
    pub messages: Vec<Message>,
    /// Tokens the new summary should stay within.
    pub max_tokens: u32,
}

/// What would be sent, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The messages sent, oldest first; the summary, if any, first as a system message.
    pub messages: Vec<Message>,
    /// The active summary (when a job is due, the one the new summary will fold in).
    pub summary: Option<Summary>,
    /// Messages that were read but are not sent.
    pub dropped: Vec<(String, u64, DropReason)>,
    /// Messages older than this `seq` (and newer than the summary) were left out unread.
    pub omitted_before_seq: Option<u64>,
    /// Estimated tokens of the request: fixed part, summary and messages (uncalibrated).
    pub tokens: u32,
    /// The budget the strategy works to, if it has one.
    pub budget: Option<u32>,
    /// Estimate-to-provider ratio applied to the budget.
    pub calibration: f64,
    /// A summarisation due before sending (summary_buffer); `messages` is then what stays verbatim.
    pub job: Option<SummaryJob>,
}

/// The calibration a session's runs established (1 when there is none yet).
pub fn calibration(session: &Session) -> f64 {
    session
        .calibration
        .as_ref()
        .map_or(1.0, |c| c.ratio)
        .clamp(super::MIN_RATIO, super::MAX_RATIO)
}

/// The room a budget leaves in estimated tokens, once calibrated and after the fixed part.
fn room(budget: u32, ratio: f64, used: u32) -> Result<u32> {
    let effective = (f64::from(budget) / ratio) as u32;
    effective
        .checked_sub(used)
        .ok_or_else(|| too_large(u64::from(used), effective))
}

/// Reads messages after `after_seq`, newest first in pages that grow, until `enough` says so or
/// the start is reached. Returns them oldest first, and whether the start was reached.
async fn load_newest(
    store: &dyn Store,
    session_id: &str,
    after_seq: Option<u64>,
    mut enough: impl FnMut(&Message) -> bool,
) -> Result<(Vec<Message>, bool)> {
    let mut pages: Vec<Vec<Message>> = Vec::new();
    let mut before = None;
    let mut size = FIRST_PAGE;
    let reached = loop {
        let query = MessageQuery {
            from_seq: after_seq.map(|s| s + 1),
            before_seq: before,
            limit: Some(size),
        };
        let page = checked(session_id, store.get_messages(session_id, query).await?)?;
        let full = page.len() == size;
        before = page.first().map(|m| m.seq);
        let done = page.iter().rev().any(&mut enough);
        pages.push(page);
        if !full {
            break true;
        }
        if done {
            break false;
        }
        size = (size * 2).min(MAX_PAGE);
    };
    let mut out = Vec::with_capacity(pages.iter().map(Vec::len).sum());
    for page in pages.into_iter().rev() {
        out.extend(page);
    }
    Ok((out, reached))
}

fn checked(session_id: &str, messages: Vec<Message>) -> Result<Vec<Message>> {
    if let Some(bad) = messages.iter().find(|m| m.session_id != session_id) {
        return Err(Error::corrupt(
            Some(session_id),
            format!("message {} belongs to another session", bad.id),
        ));
    }
    Ok(messages)
}

/// A stop condition for [`load_newest`]: the window's limits are passed and the newest user turn
/// has been read.
fn past(limits: Limits) -> impl FnMut(&Message) -> bool {
    let (mut tokens, mut count, mut user) = (0u64, 0usize, false);
    move |m| {
        if excluded(m).is_some() {
            return false;
        }
        tokens += u64::from(m.tokens);
        count += 1;
        user |= m.role == Role::User;
        user && (limits.max_tokens.is_some_and(|t| tokens > u64::from(t))
            || limits.max_messages.is_some_and(|c| count > c))
    }
}

/// What the strategy would send for this session now.
pub async fn build(store: &dyn Store, session: &Session, inputs: &Inputs<'_>) -> Result<Built> {
    let ratio = calibration(session);
    let config = inputs.config;
    let max_messages = match (config.strategy, config.max_messages) {
        (Strategy::BufferWindow { window_size }, m) => {
            Some(m.map_or(window_size, |m| m.min(window_size)))
        }
        (_, m) => m,
    };
    let uses_summary = matches!(inputs.summary, SummaryChoice::Given(_))
        || matches!(config.strategy, Strategy::SummaryBuffer { .. });
    let summary = match &inputs.summary {
        SummaryChoice::Given(s) => Some(s.clone()),
        SummaryChoice::Stored if uses_summary => {
            summary::active(store.get_summaries(&session.id).await?)
        }
        SummaryChoice::Stored => None,
    };
    let summary_tokens = summary.as_ref().map_or(0, |s| s.tokens);
    let fixed = inputs.fixed_tokens.saturating_add(summary_tokens);
    let after = summary.as_ref().map(|s| s.through_seq);
    let pending: Vec<Message> = inputs.pending.cloned().into_iter().collect();

    let (budget, token_room, stop_at) = match config.strategy {
        Strategy::Full | Strategy::BufferWindow { .. } => (None, None, None),
        Strategy::TokenWindow { budget } => {
            let r = room(budget, ratio, fixed)?;
            (Some(budget), Some(r), Some(r))
        }
        Strategy::SummaryBuffer {
            budget, threshold, ..
        } => {
            let r = room(budget, ratio, fixed)?;
            let at = room((f64::from(budget) * threshold) as u32, ratio, fixed).unwrap_or(0);
            (Some(budget), Some(r), Some(at))
        }
    };
    let mut stop = past(Limits {
        max_tokens: stop_at,
        max_messages,
    });
    let pending_enough = pending.iter().rev().any(&mut stop);
    let (mut messages, mut reached) = if pending_enough {
        (Vec::new(), false)
    } else {
        load_newest(store, &session.id, after, stop).await?
    };

    let mut job = None;
    if let Strategy::SummaryBuffer { budget, target, .. } = config.strategy {
        if !reached {
            // Over the threshold: the rest since the summary is needed to summarise it.
            let before = messages.first().map(|m| m.seq);
            let query = MessageQuery {
                from_seq: after.map(|s| s + 1),
                before_seq: before,
                limit: None,
            };
            let mut older = checked(&session.id, store.get_messages(&session.id, query).await?)?;
            older.append(&mut messages);
            messages = older;
            reached = true;
        }
        messages.extend(pending.iter().cloned());
        let total: u64 = messages
            .iter()
            .filter(|m| excluded(m).is_none())
            .map(|m| u64::from(m.tokens))
            .sum();
        let target_tokens = (f64::from(budget) * target) as u32;
        let reserve = summary_reserve(target_tokens);
        if stop_at.is_some_and(|at| total > u64::from(at)) {
            let room_target = room(
                target_tokens,
                ratio,
                inputs.fixed_tokens.saturating_add(reserve),
            )
            .unwrap_or(0);
            if let Some(k) = summary::plan(&messages, room_target, inputs.user_first) {
                let kept = messages.split_off(k);
                job = Some(SummaryJob {
                    previous: summary.clone(),
                    messages: std::mem::replace(&mut messages, kept),
                    max_tokens: reserve,
                });
            }
        }
    } else {
        messages.extend(pending.iter().cloned());
    }

    let limits = Limits {
        max_tokens: if job.is_some() { None } else { token_room },
        max_messages,
    };
    let complete = reached || job.is_some();
    let sel = select(&messages, limits, complete, inputs.user_first)?;
    let mut out = Vec::with_capacity(sel.kept.len() + 1);
    // With a summarisation due, the new summary (unknown yet) goes first and the old one is
    // folded into it: `messages` are then the turns kept verbatim.
    if job.is_none() {
        if let Some(s) = &summary {
            out.push(summary_message(s));
        }
    }
    out.extend(
        sel.kept
            .iter()
            .map(|&i| sendable_form(&messages[i]).into_owned()),
    );
    let dropped = sel
        .dropped
        .iter()
        .map(|&(i, r)| (messages[i].id.clone(), messages[i].seq, r))
        .collect();
    let tokens = inputs
        .fixed_tokens
        .saturating_add(if job.is_none() { summary_tokens } else { 0 })
        .saturating_add(sel.tokens);
    Ok(Built {
        messages: out,
        summary,
        dropped,
        omitted_before_seq: if complete {
            None
        } else {
            messages.first().map(|m| m.seq)
        },
        tokens,
        budget,
        calibration: ratio,
        job,
    })
}
