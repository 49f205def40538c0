//! Building a context from storage: reads the newest messages page by page, only as far back as
//! the strategy needs (so a `token_window` build costs the window, not the history), then applies
//! [`select`] and, for `summary_buffer`, [`plan`]. The run engine and `previewContext` both call
//! [`build`], so a preview is exactly what a call sends.

use crate::core::error::{Error, Result};
use crate::core::model::{Message, Role, Session, Summary};
use crate::core::store::{MessageQuery, Store};
use crate::core::tree::History;

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
    history: &History<'_>,
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
        let page = checked(session_id, history.messages(query).await?)?;
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
    // The active branch's messages and the summaries that hold on it.
    let history = History::open(store, session).await?;
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
        SummaryChoice::Stored if uses_summary => summary::active(history.summaries().await?),
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
        load_newest(&history, &session.id, after, stop).await?
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
            let mut older = checked(&session.id, history.messages(query).await?)?;
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

#[cfg(test)]
mod tests {
    use futures_executor::block_on;
    use proptest::prelude::{prop, proptest, ProptestConfig};

    use super::*;
    use crate::core::context::window::tests::{history, step};
    use crate::core::context::Strategy;
    use crate::core::model::{Session, Summary};
    use crate::core::store::MemoryStore;

    /// Found by proptest (kept in proptest-regressions/core/context/build.txt too): a history of
    /// assistant replies and tool rounds with no user message, over the summary threshold. There
    /// is no turn boundary, so the job folds the older messages and the kept part opens on an
    /// assistant reply; the context stays within budget and no tool result is orphaned.
    #[test]
    fn a_history_without_user_turns_is_summarised_between_messages() {
        use crate::core::context::window::tests::Step::{Reply, Tools};
        use crate::core::model::MessageStatus::Complete;
        let steps = [
            Reply(146, Complete),
            Reply(60, Complete),
            Tools(2, 24, Complete),
            Reply(43, Complete),
            Tools(1, 14, Complete),
            Reply(163, Complete),
            Reply(31, Complete),
            Tools(1, 35, Complete),
            Reply(23, Complete),
            Tools(2, 1, Complete),
        ];
        let h = history(&steps);
        let store = MemoryStore::new();
        let mut session = Session::new("s".into(), 0.0);
        session.next_seq = h.len() as u64;
        block_on(async {
            for m in &h {
                store.put_message(&session, m).await.unwrap();
            }
            let inputs = Inputs {
                config: ContextConfig {
                    strategy: Strategy::SummaryBuffer {
                        budget: 214,
                        threshold: 0.8,
                        target: 0.5,
                    },
                    max_messages: None,
                },
                fixed_tokens: 0,
                user_first: false,
                pending: None,
                summary: SummaryChoice::Stored,
            };
            let built = build(&store, &session, &inputs).await.unwrap();
            let job = built.job.expect("over the threshold: a summary is due");
            assert_eq!(job.messages[0].seq, 0);
            let first_kept = &built.messages[0];
            assert_eq!(first_kept.role, Role::Assistant);
            assert_eq!(job.messages.last().unwrap().seq + 1, first_kept.seq);
            let kept: u32 = built.messages.iter().map(|m| m.tokens).sum();
            assert!(kept <= 107, "kept {kept} tokens, over target x budget");
            for m in built.messages.iter().filter(|m| m.role == Role::Tool) {
                let id = m.tool_call_id.as_deref().unwrap();
                assert!(built
                    .messages
                    .iter()
                    .any(|c| c.tool_calls.iter().any(|t| t.id == id)));
            }
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Over random histories (tool calls, interrupted and failed replies, orphans) with or
        /// without a stored summary: the summary leads, nothing it covers is sent again, tool
        /// calls keep their results, the first non-system message is the user's when required,
        /// the budget holds, and a build reads only from the summary on.
        #[test]
        fn every_built_context_keeps_the_invariants(
            steps in prop::collection::vec(step(), 1..60),
            summary_at in prop::option::of(0usize..60),
            strategy in 0u8..4,
            budget in 50u32..3000,
            fixed in 0u32..40,
            user_first: bool,
        ) {
            let h = history(&steps);
            let store = MemoryStore::new();
            let mut session = Session::new("s".into(), 0.0);
            session.next_seq = h.len() as u64;
            let summary = summary_at.filter(|&i| i < h.len()).map(|i| Summary {
                id: "sum_1".into(),
                session_id: "s".into(),
                content: "The user's name is Sarah.".into(),
                covers: h[..=i].iter().map(|m| m.id.clone()).collect(),
                rolls_up: None,
                through_seq: i as u64,
                tokens: 12,
                model: None,
                created_at: 0.0,
            });
            let strategy = match strategy {
                0 => Strategy::Full,
                1 => Strategy::BufferWindow { window_size: (budget / 100) as usize + 1 },
                2 => Strategy::TokenWindow { budget },
                _ => Strategy::SummaryBuffer { budget, threshold: 0.8, target: 0.5 },
            };
            block_on(async {
                for m in &h {
                    store.put_message(&session, m).await.unwrap();
                }
                if let Some(s) = &summary {
                    store.put_summary(s).await.unwrap();
                }
                let inputs = Inputs {
                    config: ContextConfig { strategy, max_messages: None },
                    fixed_tokens: fixed,
                    user_first,
                    pending: None,
                    summary: SummaryChoice::Stored,
                };
                let built = match build(&store, &session, &inputs).await {
                    Ok(b) => b,
                    Err(e) => {
                        assert_eq!(e.code, crate::core::error::ErrorCode::ContextTooLarge);
                        assert!(matches!(strategy, Strategy::TokenWindow { .. } | Strategy::SummaryBuffer { .. }));
                        return;
                    }
                };
                let uses_summary = matches!(strategy, Strategy::SummaryBuffer { .. });
                let mut rest: &[Message] = &built.messages;
                if uses_summary && built.job.is_none() {
                    if let Some(s) = &summary {
                        assert_eq!(rest[0].id, s.id);
                        assert_eq!(rest[0].role, Role::System);
                        rest = &rest[1..];
                    }
                }
                // Nothing the summary covers is sent again.
                if let (true, Some(s)) = (uses_summary, &summary) {
                    assert!(rest.iter().all(|m| m.seq > s.through_seq));
                }
                // Ascending, from the store.
                assert!(rest.windows(2).all(|w| w[0].seq < w[1].seq));
                // Tool results follow their calls.
                let mut calls: Vec<&str> = Vec::new();
                for m in rest {
                    calls.extend(m.tool_calls.iter().map(|c| c.id.as_str()));
                    if m.role == Role::Tool {
                        assert!(calls.contains(&m.tool_call_id.as_deref().unwrap()));
                    }
                    assert!(!(m.role == Role::Assistant && m.status == crate::core::model::MessageStatus::Error));
                }
                for m in rest {
                    for c in &m.tool_calls {
                        let answered = h.iter().filter(|r| r.tool_call_id.as_deref() == Some(c.id.as_str()));
                        for r in answered {
                            assert!(rest.iter().any(|k| k.id == r.id), "result {} of a sent call left out", r.id);
                        }
                    }
                }
                let cut = built.omitted_before_seq.is_some()
                    || built.dropped.iter().any(|d| d.2 == DropReason::Window);
                if (cut || user_first) && rest.iter().any(|m| m.role == Role::User) {
                    assert_eq!(rest.iter().find(|m| m.role != Role::System).unwrap().role, Role::User);
                }
                // Budgets hold; the newest message is always sent.
                match strategy {
                    Strategy::TokenWindow { budget } => assert!(built.tokens <= budget),
                    Strategy::SummaryBuffer { budget, .. } if built.job.is_none() => {
                        assert!(built.tokens <= budget)
                    }
                    _ => {}
                }
                let sendable_last = h.iter().rev().find(|m| excluded(m).is_none() && m.role != Role::Tool);
                if let (Some(last), None) = (sendable_last, &built.job) {
                    if summary.as_ref().is_none_or(|s| !uses_summary || last.seq > s.through_seq) {
                        assert!(rest.iter().any(|m| m.id == last.id) || (user_first && last.role != Role::User));
                    }
                }
                // A summarisation job folds exactly the messages between the summary and the kept
                // part. The kept part opens on a user turn whenever it holds one (the newest turn is
                // always kept whole, so that is whenever a sendable user message follows the
                // summary); a history with no user turn has no turn boundary to cut on, and is cut
                // between messages, never between a tool call and its results.
                if let Some(job) = &built.job {
                    let from = summary.as_ref().map_or(0, |s| s.through_seq + 1);
                    assert_eq!(job.messages.first().map(|m| m.seq), Some(from));
                    let user_after_summary = h.iter().any(|m| {
                        m.seq >= from && m.role == Role::User && excluded(m).is_none()
                    });
                    if let (Some(a), Some(b)) = (job.messages.last(), rest.first()) {
                        assert!(a.seq < b.seq);
                        assert_eq!(user_after_summary, b.role == Role::User);
                    }
                    // Every call folded into the summary takes its results along.
                    for c in job.messages.iter().flat_map(|m| m.tool_calls.iter()) {
                        assert!(!rest.iter().any(|k| k.tool_call_id.as_deref() == Some(c.id.as_str())));
                    }
                }
            });
        }
    }
}
#[cfg(test)]
mod newest_turn_without_user {
    use super::*;
    use crate::core::context::window::tests::history;
    use crate::core::context::window::tests::Step::Tools;
    use crate::core::model::MessageStatus::{Complete, Interrupted};
    use crate::core::store::MemoryStore;

    /// Found by a random seed: with no user turn and a window smaller than the newest call and its
    /// results, the window kept only results, dropped them as orphans and sent nothing.
    fn sent(steps: &[crate::core::context::window::tests::Step]) -> Vec<u64> {
        let h = history(steps);
        let store = MemoryStore::new();
        let mut session = Session::new("s".into(), 0.0);
        session.next_seq = h.len() as u64;
        futures_executor::block_on(async {
            for m in &h {
                store.put_message(&session, m).await.unwrap();
            }
            let inputs = Inputs {
                config: ContextConfig {
                    strategy: Strategy::BufferWindow { window_size: 1 },
                    max_messages: None,
                },
                fixed_tokens: 0,
                user_first: false,
                pending: None,
                summary: SummaryChoice::Stored,
            };
            let built = build(&store, &session, &inputs).await.unwrap();
            built.messages.iter().map(|m| m.seq).collect()
        })
    }

    #[test]
    fn a_call_is_sent_with_its_results_even_past_the_window() {
        assert_eq!(sent(&[Tools(3, 1, Complete)]), [0, 1, 2, 3]);
    }

    #[test]
    fn results_of_an_unsent_call_do_not_hide_the_call_before_them() {
        // [call c1 c2, r1, r2, interrupted call c3, r3]: the interrupted call is not sent and r3
        // answers nothing sent; the newest turn is the complete call with its results.
        assert_eq!(
            sent(&[Tools(2, 1, Complete), Tools(1, 1, Interrupted)]),
            [0, 1, 2]
        );
    }
}
