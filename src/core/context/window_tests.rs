use proptest::prelude::*;

use super::*;
use crate::core::model::{Message, MessageStatus, Role, ToolCall};

pub(crate) fn msg(seq: u64, role: Role, tokens: u32) -> Message {
    Message {
        id: format!("m{seq}"),
        session_id: "s".into(),
        seq,
        parent: Default::default(),
        role,
        content: "x".into(),
        name: None,
        tool_calls: vec![],
        tool_call_id: None,
        status: MessageStatus::Complete,
        created_at: 0.0,
        tokens,
        run_id: None,
        metadata: None,
        payload: None,
    }
}

fn tokens(max: u32) -> Limits {
    Limits {
        max_tokens: Some(max),
        max_messages: None,
    }
}

fn messages(max: usize) -> Limits {
    Limits {
        max_tokens: None,
        max_messages: Some(max),
    }
}

fn call(seq: u64, ids: &[&str]) -> Message {
    let mut m = msg(seq, Role::Assistant, 10);
    m.content.clear();
    m.tool_calls = ids
        .iter()
        .map(|id| ToolCall {
            id: (*id).into(),
            name: "f".into(),
            arguments: "{}".into(),
        })
        .collect();
    m
}

fn result(seq: u64, id: &str) -> Message {
    let mut m = msg(seq, Role::Tool, 10);
    m.tool_call_id = Some(id.into());
    m
}

fn first_kept(h: &[Message], s: &Selection) -> Option<Role> {
    s.kept.first().map(|&i| h[i].role)
}

#[test]
fn window_keeps_the_newest_within_limits_and_opens_on_a_user_turn() {
    use Role::*;
    let h: Vec<Message> = [User, Assistant, User, Assistant, Tool, Assistant, User]
        .iter()
        .enumerate()
        .map(|(i, r)| msg(i as u64, *r, 10))
        .collect();
    let all = select(&h, Limits::default(), true, false).unwrap();
    // The tool result at 4 has no call: it is dropped wherever the window starts.
    assert_eq!(all.kept, [0, 1, 2, 3, 5, 6]);
    assert_eq!(all.dropped, [(4, DropReason::OrphanToolResult)]);
    // 3 messages would open on the assistant at 5: cut forward to the user turn.
    assert_eq!(select(&h, messages(3), true, false).unwrap().kept, [6]);
    assert_eq!(
        select(&h, tokens(50), true, false).unwrap().kept,
        [2, 3, 5, 6]
    );
    assert_eq!(select(&h, tokens(35), true, false).unwrap().kept, [6]);
    // Tokens are those of the kept messages.
    assert_eq!(select(&h, tokens(50), true, false).unwrap().tokens, 40);
}

#[test]
fn a_budget_too_small_for_the_newest_turn_is_context_too_large() {
    let h = [
        msg(0, Role::User, 10),
        msg(1, Role::Assistant, 10),
        msg(2, Role::User, 30),
    ];
    let e = select(&h, tokens(29), true, false).unwrap_err();
    assert_eq!(e.code, ErrorCode::ContextTooLarge);
    assert!(e.message.contains("30"), "{}", e.message);
    assert_eq!(select(&h, tokens(30), true, false).unwrap().kept, [2]);
}

#[test]
fn a_message_cap_never_cuts_into_the_newest_turn() {
    let h = [
        msg(0, Role::User, 10),
        call(1, &["a"]),
        result(2, "a"),
        msg(3, Role::Assistant, 10),
    ];
    let s = select(&h, messages(1), true, false).unwrap();
    assert_eq!(s.kept, [0, 1, 2, 3]);
}

#[test]
fn a_tool_call_and_its_results_stay_together() {
    let h = [
        msg(0, Role::User, 10),
        call(1, &["a", "b"]),
        result(2, "a"),
        result(3, "b"),
        msg(4, Role::Assistant, 10),
        msg(5, Role::User, 10),
    ];
    // Room for 4 messages: the window may not start at the second result.
    let s = select(&h, messages(4), true, false).unwrap();
    assert_eq!(s.kept, [5]);
    let s = select(&h, messages(6), true, false).unwrap();
    assert_eq!(s.kept, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn failed_replies_are_not_sent_and_interrupted_ones_lose_their_tool_calls() {
    let mut failed = msg(1, Role::Assistant, 10);
    failed.status = MessageStatus::Error;
    let mut cut = call(3, &["a"]);
    cut.content = "Let me check".into();
    cut.status = MessageStatus::Interrupted;
    let mut empty = msg(5, Role::Assistant, 10);
    empty.content.clear();
    empty.status = MessageStatus::Interrupted;
    let h = [
        msg(0, Role::User, 10),
        failed,
        msg(2, Role::User, 10),
        cut,
        result(4, "a"),
        empty,
        msg(6, Role::User, 10),
    ];
    let s = select(&h, Limits::default(), true, false).unwrap();
    assert_eq!(s.kept, [0, 2, 3, 6]);
    assert_eq!(
        s.dropped,
        [
            (1, DropReason::Failed),
            (4, DropReason::OrphanToolResult),
            (5, DropReason::Empty)
        ]
    );
    assert!(sendable_form(&h[3]).tool_calls.is_empty());
    assert_eq!(sendable_form(&h[3]).content, "Let me check");
}

#[test]
fn providers_that_need_a_user_turn_first_get_one_even_when_nothing_was_cut() {
    let h = [msg(0, Role::Assistant, 10), msg(1, Role::User, 10)];
    let s = select(&h, Limits::default(), true, false).unwrap();
    assert_eq!(s.kept, [0, 1]);
    let s = select(&h, Limits::default(), true, true).unwrap();
    assert_eq!(s.kept, [1]);
    assert_eq!(s.dropped, [(0, DropReason::BeforeUserTurn)]);
    // An incomplete read counts as a cut.
    let s = select(&h, Limits::default(), false, false).unwrap();
    assert_eq!(s.kept, [1]);
}

// ---------------------------------------------------------------------------------------------
// properties over random histories with tool calls, interrupted and failed messages
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(crate) enum Step {
    User(u32),
    Reply(u32, MessageStatus),
    Tools(u8, u32, MessageStatus),
    Orphan(u32),
    System(u32),
}

pub(crate) fn step() -> impl Strategy<Value = Step> {
    let status = prop_oneof![
        6 => Just(MessageStatus::Complete),
        1 => Just(MessageStatus::Interrupted),
        1 => Just(MessageStatus::Error),
    ];
    prop_oneof![
        4 => (1u32..200).prop_map(Step::User),
        4 => ((0u32..200), status.clone()).prop_map(|(t, s)| Step::Reply(t, s)),
        2 => ((1u8..4), (1u32..100), status).prop_map(|(n, t, s)| Step::Tools(n, t, s)),
        1 => (1u32..50).prop_map(Step::Orphan),
        1 => (1u32..50).prop_map(Step::System),
    ]
}

/// A history from steps: tool steps are an assistant call followed by its results (the call
/// itself possibly interrupted or failed).
pub(crate) fn history(steps: &[Step]) -> Vec<Message> {
    let mut h: Vec<Message> = Vec::new();
    let mut calls = 0;
    for s in steps {
        let seq = h.len() as u64;
        match s {
            Step::User(t) => h.push(msg(seq, Role::User, *t)),
            Step::System(t) => h.push(msg(seq, Role::System, *t)),
            Step::Reply(t, st) => {
                let mut m = msg(seq, Role::Assistant, (*t).max(1));
                m.status = *st;
                if *t == 0 {
                    m.content.clear();
                }
                h.push(m);
            }
            Step::Tools(n, t, st) => {
                let ids: Vec<String> = (0..*n)
                    .map(|_| {
                        calls += 1;
                        format!("c{calls}")
                    })
                    .collect();
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                let mut m = call(seq, &refs);
                m.tokens = *t;
                m.status = *st;
                h.push(m);
                for id in &ids {
                    let seq = h.len() as u64;
                    h.push(result(seq, id));
                }
            }
            Step::Orphan(t) => {
                let mut m = result(seq, "nobody");
                m.tokens = *t;
                h.push(m);
            }
        }
    }
    h
}

fn check_invariants(h: &[Message], limits: Limits, user_first: bool, s: &Selection) {
    let kept: Vec<&Message> = s.kept.iter().map(|&i| &h[i]).collect();
    // Ascending, and kept + dropped account for every message exactly once.
    assert!(s.kept.windows(2).all(|w| w[0] < w[1]));
    let mut all: Vec<usize> = s
        .kept
        .iter()
        .copied()
        .chain(s.dropped.iter().map(|d| d.0))
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..h.len()).collect::<Vec<_>>());
    // A suffix: nothing sendable after the first kept message is dropped for the window.
    if let Some(&first) = s.kept.first() {
        assert!(s
            .dropped
            .iter()
            .all(|&(i, r)| i < first || r != DropReason::Window));
    }
    // Never a failed reply, never an empty assistant message, never a half-streamed tool call.
    for m in &kept {
        assert!(!(m.role == Role::Assistant && m.status == MessageStatus::Error));
        let sent = sendable_form(m);
        assert!(
            !(m.role == Role::Assistant && sent.content.is_empty() && sent.tool_calls.is_empty())
        );
        assert!(m.status == MessageStatus::Complete || sent.tool_calls.is_empty());
    }
    // Every kept tool result follows its kept call; every kept call keeps all its results.
    let mut seen_calls: Vec<String> = Vec::new();
    for (pos, &i) in s.kept.iter().enumerate() {
        let m = &h[i];
        if m.role == Role::Tool {
            let id = m.tool_call_id.clone().unwrap();
            assert!(seen_calls.contains(&id), "orphan tool result {} kept", m.id);
        }
        for c in &sendable_form(m).tool_calls {
            seen_calls.push(c.id.clone());
            for (j, r) in h.iter().enumerate().skip(i + 1) {
                if r.tool_call_id.as_deref() == Some(c.id.as_str()) {
                    assert!(
                        s.kept[pos..].contains(&j),
                        "result {} of a kept call dropped",
                        r.id
                    );
                }
            }
        }
    }
    // The first non-system message is the user's whenever something was cut or the provider
    // requires it (and there is a user message to open on).
    let cut = s.dropped.iter().any(|d| d.1 == DropReason::Window);
    if (cut || user_first) && kept.iter().any(|m| m.role == Role::User) {
        let first = kept.iter().find(|m| m.role != Role::System).unwrap();
        assert_eq!(first.role, Role::User);
    }
    // Limits hold, except that a message cap never cuts into the newest turn.
    let turn = newest_turn_start(h);
    if let Some(max) = limits.max_tokens {
        assert!(s.tokens <= max);
    }
    if let (Some(max), Some(turn)) = (limits.max_messages, turn) {
        let in_turn = s.kept.iter().filter(|&&i| i >= turn).count();
        assert!(s.kept.len() <= max.max(in_turn));
    }
    // The newest turn is kept whole (bar orphans).
    if let Some(turn) = turn {
        for i in turn..h.len() {
            let dropped_for = s.dropped.iter().find(|d| d.0 == i).map(|d| d.1);
            assert!(
                matches!(
                    dropped_for,
                    None | Some(
                        DropReason::Failed | DropReason::Empty | DropReason::OrphanToolResult
                    )
                ),
                "newest-turn message {i} dropped for {dropped_for:?}"
            );
        }
    }
    assert_eq!(s.tokens, kept.iter().map(|m| m.tokens).sum::<u32>());
    let _ = first_kept;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_window_keeps_the_invariants(
        steps in prop::collection::vec(step(), 0..40),
        max_tokens in prop::option::of(1u32..3000),
        max_messages in prop::option::of(1usize..30),
        user_first: bool,
        complete: bool,
    ) {
        let h = history(&steps);
        let limits = Limits { max_tokens, max_messages };
        match select(&h, limits, complete, user_first) {
            Ok(s) => check_invariants(&h, limits, user_first, &s),
            Err(e) => {
                // Only when the newest turn alone is over the token budget.
                prop_assert_eq!(e.code, ErrorCode::ContextTooLarge);
                let turn = newest_turn_start(&h).unwrap();
                let needed: u32 = h[turn..].iter().filter(|m| excluded(m).is_none()).map(|m| m.tokens).sum();
                prop_assert!(needed > max_tokens.unwrap());
            }
        }
    }

    #[test]
    fn a_larger_budget_never_keeps_less(
        steps in prop::collection::vec(step(), 1..40),
        budget in 1u32..2000,
        extra in 0u32..2000,
    ) {
        let h = history(&steps);
        if let Ok(small) = select(&h, tokens(budget), true, false) {
            let big = select(&h, tokens(budget + extra), true, false).unwrap();
            prop_assert!(big.kept.len() >= small.kept.len());
            prop_assert!(small.kept.iter().all(|i| big.kept.contains(i)));
        }
    }
}
