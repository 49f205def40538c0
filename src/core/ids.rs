//! Id generation (from randomness the platform passes in) and validation of caller-chosen ids.

use crate::core::error::{Error, ErrorCode, Result};
use crate::core::io::RandomSource;

/// Longest accepted caller-chosen id, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// Random bytes behind a generated session id: 128 bits.
const SESSION_ID_BYTES: usize = 16;
/// Message and run ids need only be unique within a session; 96 bits is ample.
const ITEM_ID_BYTES: usize = 12;

const HEX: &[u8; 16] = b"0123456789abcdef";

fn random_id(prefix: &str, bytes: usize, rng: &dyn RandomSource) -> String {
    let mut buf = [0u8; SESSION_ID_BYTES];
    let buf = &mut buf[..bytes];
    rng.fill(buf);
    let mut id = String::with_capacity(prefix.len() + bytes * 2);
    id.push_str(prefix);
    for b in buf.iter() {
        id.push(HEX[(b >> 4) as usize] as char);
        id.push(HEX[(b & 0xf) as usize] as char);
    }
    id
}

/// `sess_` followed by 32 hex digits (128 random bits).
pub fn new_session_id(rng: &dyn RandomSource) -> String {
    random_id("sess_", SESSION_ID_BYTES, rng)
}

pub fn new_message_id(rng: &dyn RandomSource) -> String {
    random_id("msg_", ITEM_ID_BYTES, rng)
}

pub fn new_run_id(rng: &dyn RandomSource) -> String {
    random_id("run_", ITEM_ID_BYTES, rng)
}

pub fn new_summary_id(rng: &dyn RandomSource) -> String {
    random_id("sum_", ITEM_ID_BYTES, rng)
}

/// Checks an id chosen by a caller: 1 to 128 characters, no control characters, not only
/// whitespace. Anything else printable is allowed, `/` and `:` included, so ids such as
/// `org-1/team-2/user-3` work; storage backends escape what their keys cannot hold.
pub fn validate_id(kind: &str, id: &str) -> Result<()> {
    let invalid = |why: &str| {
        Error::new(
            ErrorCode::InvalidId,
            format!(
                "invalid {kind} id {}: {why}",
                crate::core::json::quote(&truncate_for_message(id))
            ),
        )
    };
    if id.is_empty() {
        return Err(invalid("it is empty"));
    }
    let mut chars = 0usize;
    let mut all_space = true;
    for c in id.chars() {
        chars += 1;
        if c.is_control() {
            return Err(invalid("it contains a control character"));
        }
        if !c.is_whitespace() {
            all_space = false;
        }
    }
    if chars > MAX_ID_CHARS {
        return Err(invalid(&format!(
            "it is {chars} characters long (at most {MAX_ID_CHARS})"
        )));
    }
    if all_space {
        return Err(invalid("it is only whitespace"));
    }
    Ok(())
}

pub fn validate_session_id(id: &str) -> Result<()> {
    validate_id("session", id)
}

/// Shortens user input quoted back in an error message, so a 10 MB id does not become a 10 MB
/// error.
pub(crate) fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::core::io::RandomSource;
    use std::cell::Cell;

    /// Deterministic randomness for tests (xorshift64*).
    pub struct SeqRandom(Cell<u64>);

    impl SeqRandom {
        pub fn new(seed: u64) -> Self {
            SeqRandom(Cell::new(seed.max(1)))
        }
    }

    impl RandomSource for SeqRandom {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                let mut x = self.0.get();
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                self.0.set(x);
                *b = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::SeqRandom;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_session_ids_have_prefix_and_128_bits_of_hex() {
        let rng = SeqRandom::new(7);
        let a = new_session_id(&rng);
        let b = new_session_id(&rng);
        assert!(a.starts_with("sess_"));
        assert_eq!(a.len(), 5 + 32);
        assert!(a[5..].bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        validate_session_id(&a).unwrap();
    }

    #[test]
    fn custom_ids_from_the_docs_are_accepted() {
        for id in [
            "user-sarah-2024",
            "demo",
            "user-123",
            "org-1/team-2/user-3",
            "ticket-42",
            "user-alice-session-1",
            "user-1-1700000000000",
            "ユーザー-1",
            "a",
        ] {
            validate_session_id(id).unwrap();
        }
    }

    #[test]
    fn bad_ids_are_rejected_with_invalid_id() {
        let long = "x".repeat(129);
        for id in [
            "",
            " ",
            "\t\n",
            "a\u{0}b",
            "line\nbreak",
            "\u{7f}",
            long.as_str(),
        ] {
            let err = validate_session_id(id).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidId, "{id:?}");
        }
        validate_session_id(&"x".repeat(128)).unwrap();
        validate_session_id(&"é".repeat(128)).unwrap();
    }

    #[test]
    fn error_messages_do_not_echo_huge_ids() {
        let err = validate_session_id(&"y".repeat(10_000)).unwrap_err();
        assert!(err.message.len() < 300, "{}", err.message.len());
    }

    proptest! {
        #[test]
        fn validation_matches_its_definition(id in "\\PC{0,140}|[\\x00-\\x20a]{0,5}|\\s{1,4}") {
            let expected_ok = !id.is_empty()
                && id.chars().count() <= MAX_ID_CHARS
                && !id.chars().any(char::is_control)
                && !id.chars().all(char::is_whitespace);
            prop_assert_eq!(validate_session_id(&id).is_ok(), expected_ok);
        }

        #[test]
        fn generated_ids_always_validate(seed in any::<u64>()) {
            let rng = SeqRandom::new(seed);
            let id = new_session_id(&rng);
            prop_assert!(validate_session_id(&id).is_ok());
        }

        #[test]
        fn next_f64_is_in_unit_interval(seed in any::<u64>()) {
            let v = SeqRandom::new(seed).next_f64();
            prop_assert!((0.0..1.0).contains(&v));
        }
    }
}
