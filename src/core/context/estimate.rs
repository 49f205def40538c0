//! Token estimation: cheap, allocation-free, computed once per message when it is stored and kept
//! with it. Measured against real BPE tokenizers (OpenAI's `o200k_base` and `cl100k_base`) on the
//! committed samples in `bench/context/samples/`; the error table is in `bench/context.md`.

/// Estimated tokens of a text for BPE tokenizers of the GPT family (`o200k_base` as reference).
///
/// BPE vocabularies hold most whole English words, so a run of letters costs about one token per
/// eight letters (rounded up); digits go in groups of three; a space before a word merges into
/// it; ASCII punctuation costs about 0.6 of a token (common pairs such as `()` or `);` merge);
/// CJK ideographs, kana and hangul about 0.7 each; other symbols (emoji) one each. Letters
/// outside ASCII (accented Latin, Cyrillic...) continue a word at double weight. Everything is
/// counted in tenths and rounded up once.
pub fn estimate_text_tokens(text: &str) -> u32 {
    // ASCII text (most of it) is read byte by byte rather than decoded as UTF-8; the rules are
    // the same code either way.
    if text.is_ascii() {
        estimate_chars(text.bytes().map(char::from))
    } else {
        estimate_chars(text.chars())
    }
}

fn estimate_chars(chars: impl Iterator<Item = char>) -> u32 {
    #[derive(PartialEq)]
    enum Run {
        None,
        Word,
        Digits,
        Space,
    }
    let mut tenths: u64 = 0;
    let mut run = Run::None;
    let mut len: u64 = 0;
    let flush = |run: &Run, len: u64| -> u64 {
        match run {
            Run::Word => len.div_ceil(16) * 10,
            Run::Digits => len.div_ceil(3) * 10,
            Run::Space if len >= 2 => 5,
            _ => 0,
        }
    };
    for c in chars {
        let (kind, weight) = match c {
            'a'..='z' | 'A'..='Z' => (Run::Word, 2),
            '0'..='9' => (Run::Digits, 1),
            ' ' => (Run::Space, 1),
            _ if !c.is_ascii() && is_wide(c) => (Run::None, 0),
            _ if !c.is_ascii() && c.is_alphabetic() => (Run::Word, 4),
            _ => (Run::None, 0),
        };
        if kind != run {
            tenths += flush(&run, len);
            len = 0;
            run = kind;
        }
        match run {
            Run::None => {
                tenths += match c {
                    '\n' | '\t' | '\r' => 5,
                    _ if c.is_ascii() => 6,
                    _ if is_wide(c) => 7,
                    _ => 10,
                }
            }
            _ => len += weight,
        }
    }
    tenths += flush(&run, len);
    u32::try_from(tenths.div_ceil(10)).unwrap_or(u32::MAX)
}

/// CJK ideographs, kana, hangul, and their punctuation and full-width forms.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af
        | 0xf900..=0xfaff | 0xff00..=0xffef)
}

/// Per-message framing overhead (role markers, separators) that chat formats add.
pub const MESSAGE_OVERHEAD_TOKENS: u32 = 4;

/// A message: its content, `extra` (tool call names and arguments), and the framing.
pub fn estimate_message_tokens(content: &str, extra: &str) -> u32 {
    MESSAGE_OVERHEAD_TOKENS
        .saturating_add(estimate_text_tokens(content))
        .saturating_add(estimate_text_tokens(extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_digits_punctuation_and_cjk_have_their_own_rates() {
        assert_eq!(estimate_text_tokens(""), 0);
        assert_eq!(estimate_text_tokens("hello"), 1);
        assert_eq!(estimate_text_tokens("hello world"), 2);
        assert_eq!(estimate_text_tokens("internationalization"), 3);
        assert_eq!(estimate_text_tokens("2024"), 2);
        assert_eq!(estimate_text_tokens("你好世界"), 3);
        assert_eq!(estimate_text_tokens("a, b."), 4);
        assert!(estimate_message_tokens("hi", "") > estimate_text_tokens("hi"));
        // Never overflows, however long the text.
        assert!(estimate_text_tokens(&"x".repeat(100_000)) > 10_000);
    }

    /// The committed samples and their real BPE counts (from `node bench/context/tokens.mjs`).
    /// The estimate must stay within the documented ±15% of `o200k_base` on each kind of text.
    #[test]
    fn estimator_error_against_o200k_stays_within_fifteen_percent_on_the_samples() {
        let reference: serde_json::Value = serde_json::from_str(include_str!(
            "../../../bench/context/samples/reference.json"
        ))
        .unwrap();
        let samples = [
            (
                "english",
                include_str!("../../../bench/context/samples/english.txt"),
            ),
            (
                "code",
                include_str!("../../../bench/context/samples/code.txt"),
            ),
            (
                "cjk",
                include_str!("../../../bench/context/samples/cjk.txt"),
            ),
        ];
        for (name, text) in samples {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let expected = &reference[name]["o200k"];
            assert_eq!(expected.as_array().unwrap().len(), lines.len(), "{name}");
            let real: u64 = expected
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum();
            let est: u64 = lines
                .iter()
                .map(|l| u64::from(estimate_text_tokens(l)))
                .sum();
            let err = est as f64 / real as f64 - 1.0;
            assert!(
                err.abs() <= 0.15,
                "{name}: estimate {est} vs o200k {real} ({err:+.3})"
            );
        }
    }
}
