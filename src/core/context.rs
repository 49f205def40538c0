//! Context-window concerns: token estimation (computed once per message, when it is stored) and,
//! later, the strategies that decide what the model sees.

/// Estimated tokens of a text for BPE tokenizers of the GPT/Claude family.
///
/// ASCII prose and code run at about four characters a token; CJK ideographs and kana at about
/// one token each; other non-ASCII letters in between. Cheap and allocation-free.
pub fn estimate_text_tokens(text: &str) -> u32 {
    let mut ascii = 0u32;
    let mut wide = 0u32;
    let mut other = 0u32;
    for c in text.chars() {
        match c as u32 {
            0..=0x7f => ascii += 1,
            0x3040..=0x30ff
            | 0x3400..=0x4dbf
            | 0x4e00..=0x9fff
            | 0xac00..=0xd7af
            | 0xf900..=0xfaff => wide += 1,
            _ => other += 1,
        }
    }
    ascii.div_ceil(4) + wide + other.div_ceil(2)
}

/// Per-message framing overhead (role markers, separators) that chat formats add.
pub const MESSAGE_OVERHEAD_TOKENS: u32 = 4;

pub fn estimate_message_tokens(content: &str, extra: &str) -> u32 {
    MESSAGE_OVERHEAD_TOKENS + estimate_text_tokens(content) + estimate_text_tokens(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_about_four_chars_a_token_and_cjk_one() {
        assert_eq!(estimate_text_tokens(""), 0);
        assert_eq!(estimate_text_tokens("abcd"), 1);
        assert_eq!(estimate_text_tokens("abcde"), 2);
        assert_eq!(estimate_text_tokens("你好世界"), 4);
        assert!(estimate_message_tokens("hi", "") > estimate_text_tokens("hi"));
    }
}

/// Limits for [`recent_window`]: PraisonAI's `getMessagesForLLM({ maxTokens, strategy: "recent" })`
/// and a session's `maxMessages`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowLimits {
    pub max_messages: Option<usize>,
    pub max_tokens: Option<u32>,
}

/// The newest suffix of `messages` within the limits, cut so that it never opens with a tool
/// result whose call was dropped, and opens on a user turn when one is in the window.
pub fn recent_window(messages: &[crate::core::model::Message], limits: WindowLimits) -> usize {
    use crate::core::model::Role;
    let mut start = messages.len();
    let mut tokens = 0u32;
    while start > 0 {
        let m = &messages[start - 1];
        let count = messages.len() - start + 1;
        if limits.max_messages.is_some_and(|max| count > max) {
            break;
        }
        let t = tokens.saturating_add(m.tokens);
        if limits.max_tokens.is_some_and(|max| t > max) {
            break;
        }
        tokens = t;
        start -= 1;
    }
    if start > 0 {
        // Something was cut: skip ahead to the first user turn so no orphan tool result or
        // assistant reply leads the window.
        if let Some(offset) = messages[start..].iter().position(|m| m.role == Role::User) {
            start += offset;
        } else {
            start += messages[start..]
                .iter()
                .take_while(|m| m.role == Role::Tool)
                .count();
        }
    }
    start
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use crate::core::model::{Message, MessageStatus, Role};

    fn msg(seq: u64, role: Role, tokens: u32) -> Message {
        Message {
            id: format!("m{seq}"),
            session_id: "s".into(),
            seq,
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
        }
    }

    #[test]
    fn window_keeps_the_newest_within_limits_and_opens_on_a_user_turn() {
        use Role::*;
        let h: Vec<Message> = [User, Assistant, User, Assistant, Tool, Assistant, User]
            .iter()
            .enumerate()
            .map(|(i, r)| msg(i as u64, *r, 10))
            .collect();
        assert_eq!(recent_window(&h, WindowLimits::default()), 0);
        // 3 messages would open on the tool result: cut forward to the user turn.
        let lim = WindowLimits {
            max_messages: Some(3),
            max_tokens: None,
        };
        assert_eq!(recent_window(&h, lim), 6);
        let lim = WindowLimits {
            max_messages: None,
            max_tokens: Some(50),
        };
        assert_eq!(recent_window(&h, lim), 2);
        let lim = WindowLimits {
            max_messages: None,
            max_tokens: Some(35),
        };
        assert_eq!(recent_window(&h, lim), 6);
        let lim = WindowLimits {
            max_messages: Some(5),
            max_tokens: None,
        };
        assert_eq!(recent_window(&h, lim), 2);
    }
}
