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
