//! `summary_buffer`: when to summarise, what, and the request that asks the model for it.
//! Summaries roll up: a new one folds the previous summary's text and the turns after it, never
//! the whole history again. The summarised messages stay in storage.

use crate::core::model::{Message, Role, Summary};

use super::window::{excluded, select, sendable_form, Limits};

/// The share of `target × budget` a summary is asked to fit in (and that is kept free for it).
pub const SUMMARY_SHARE: f64 = 0.25;
/// A summary is never asked to be shorter than this many tokens.
pub const MIN_SUMMARY_TOKENS: u32 = 64;

/// Tokens kept free for the summary when choosing which turns stay verbatim.
pub fn summary_reserve(target_tokens: u32) -> u32 {
    ((f64::from(target_tokens) * SUMMARY_SHARE) as u32).max(MIN_SUMMARY_TOKENS)
}

/// Which of `candidates` (every message after the current summary, oldest first) to fold into a
/// new summary: `Some(k)` summarises `candidates[..k]` and keeps the rest verbatim. `None` when
/// nothing is due or nothing can be summarised (the newest turn alone is over the target).
///
/// `room_target` is what `target × budget` leaves for messages once the system prompt and the
/// summary reserve are counted.
pub fn plan(candidates: &[Message], room_target: u32, user_first: bool) -> Option<usize> {
    let sel = select(
        candidates,
        Limits {
            max_tokens: Some(room_target),
            max_messages: None,
        },
        true,
        user_first,
    )
    .ok()?;
    // Everything older than the first kept message goes into the summary (the window opens on a
    // user turn, so the cut is on a turn boundary).
    let k = *sel.kept.first()?;
    let worth = candidates[..k].iter().any(|m| excluded(m).is_none());
    worth.then_some(k)
}

/// Splits the messages to summarise into chunks of at most `max_tokens` each (at least one
/// message per chunk), so a long backlog is rolled up over several calls, oldest first.
pub fn chunks(messages: &[Message], max_tokens: u32) -> Vec<&[Message]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut sum: u64 = 0;
    for (i, m) in messages.iter().enumerate() {
        let t = u64::from(m.tokens);
        if i > start && sum + t > u64::from(max_tokens) {
            out.push(&messages[start..i]);
            start = i;
            sum = 0;
        }
        sum += t;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

pub const SUMMARY_SYSTEM: &str =
    "You write the running memory of a conversation between a user and an assistant.";

/// The user message of a summary request: the instructions, the previous summary and a plain
/// transcript of the turns to fold in.
pub fn summary_prompt(previous: Option<&Summary>, messages: &[Message], max_words: u32) -> String {
    let mut s = format!(
        "Summarize the conversation below in at most {max_words} words. Keep names, facts, \
         preferences, decisions and open questions; write in the third person (\"The user ...\"); \
         reply with the summary only.\n"
    );
    if let Some(p) = previous {
        s.push_str("\n[Earlier summary]\n");
        s.push_str(p.content.trim());
        s.push('\n');
    }
    s.push_str("\n[Conversation]\n");
    for m in messages {
        if excluded(m).is_some() {
            continue;
        }
        let m = sendable_form(m);
        let who = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
            Role::Tool => "tool result",
        };
        if !m.content.is_empty() {
            s.push_str(who);
            s.push_str(": ");
            s.push_str(m.content.trim());
            s.push('\n');
        }
        for c in &m.tool_calls {
            s.push_str(&format!("assistant called {}({})\n", c.name, c.arguments));
        }
    }
    s
}

/// How the summary appears in the context: a system message standing where the turns it covers
/// were (providers that keep system text apart fold it into the system prompt).
pub fn summary_message(summary: &Summary) -> Message {
    Message {
        id: summary.id.clone(),
        session_id: summary.session_id.clone(),
        seq: summary.through_seq,
        parent: Default::default(),
        role: Role::System,
        content: format!("{SUMMARY_HEADING}\n{}", summary.content),
        name: None,
        tool_calls: Vec::new(),
        tool_call_id: None,
        status: Default::default(),
        created_at: summary.created_at,
        tokens: summary.tokens,
        run_id: None,
        metadata: None,
        payload: None,
    }
}

pub const SUMMARY_HEADING: &str = "Summary of the earlier conversation:";

/// The active summary: the one reaching furthest (the newest roll-up), if any.
pub fn active(summaries: Vec<Summary>) -> Option<Summary> {
    summaries.into_iter().reduce(|a, b| {
        if (b.through_seq, b.created_at) >= (a.through_seq, a.created_at) {
            b
        } else {
            a
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::context::window::tests::msg;
    use crate::core::model::Role::*;

    #[test]
    fn plan_folds_the_oldest_turns_and_keeps_the_newest_under_the_target() {
        let h: Vec<Message> = [User, Assistant, User, Assistant, User, Assistant, User]
            .iter()
            .enumerate()
            .map(|(i, r)| msg(i as u64, *r, 10))
            .collect();
        // 30 tokens of room: the last three messages, opening on the user turn at 4.
        assert_eq!(plan(&h, 30, false), Some(4));
        // 25 tokens: a window of 2 would open on an assistant; cut forward to the user at 6.
        assert_eq!(plan(&h, 25, false), Some(6));
        // Everything fits: nothing to fold.
        assert_eq!(plan(&h, 1000, false), None);
        // The newest turn alone is over the target: nothing can be summarised.
        assert_eq!(plan(&h, 5, false), None);
    }

    #[test]
    fn chunks_stay_under_the_limit_and_cover_everything_in_order() {
        let h: Vec<Message> = (0..10).map(|i| msg(i, User, 30)).collect();
        let c = chunks(&h, 100);
        assert_eq!(c.iter().map(|c| c.len()).collect::<Vec<_>>(), [3, 3, 3, 1]);
        let big = [msg(0, User, 500), msg(1, User, 1)];
        assert_eq!(chunks(&big, 100).len(), 2);
    }

    #[test]
    fn the_prompt_carries_the_previous_summary_and_a_transcript_without_failed_replies() {
        let mut failed = msg(1, Assistant, 3);
        failed.status = crate::core::model::MessageStatus::Error;
        failed.content = "half an ans".into();
        let mut user = msg(0, User, 3);
        user.content = "My name is Sarah.".into();
        let prev = Summary {
            id: "sum_1".into(),
            session_id: "s".into(),
            content: "The user lives in Lisbon.".into(),
            covers: vec![],
            rolls_up: None,
            through_seq: 0,
            tokens: 5,
            model: None,
            created_at: 0.0,
        };
        let p = summary_prompt(Some(&prev), &[user, failed], 50);
        assert!(p.starts_with("Summarize"), "{p}");
        assert!(p.contains("The user lives in Lisbon."), "{p}");
        assert!(p.contains("user: My name is Sarah."), "{p}");
        assert!(!p.contains("half an ans"), "{p}");
    }
}
