//! The offline provider: a deterministic "model" whose replies are computed only from the
//! history it is given. It exists to make the library's point visible without a network or a
//! key: if a fact reaches it, it can repeat it; if the context strategy dropped it, it cannot.
//!
//! It understands a handful of English statements ("my name is X", "I live in X", "I like X",
//! "my favorite X is Y") and questions about them, in the user's messages and in the system
//! text (where a stored summary lands, in the third person: "The user's name is X").

use crate::core::model::{Message, Role, ToolCall, Usage};

use super::StreamEvent;

const NO_INFO: &str = "I don't have that information.";

/// The reply to the latest user message of `messages`. Asked to continue a cut-off reply
/// ([`super::CONTINUE_INSTRUCTION`] after it), it answers the rest of what it would have said.
pub fn mock_reply(agent_name: Option<&str>, system: Option<&str>, messages: &[Message]) -> String {
    if let [earlier @ .., partial, ask] = messages {
        if ask.role == Role::User
            && ask.content == super::CONTINUE_INSTRUCTION
            && partial.role == Role::Assistant
        {
            let full = mock_reply(agent_name, system, earlier);
            return match full.strip_prefix(partial.content.as_str()) {
                Some(rest) => rest.to_owned(),
                None => full,
            };
        }
    }
    reply_to(agent_name, system, messages)
}

fn reply_to(agent_name: Option<&str>, system: Option<&str>, messages: &[Message]) -> String {
    let agent = agent_name.map(str::trim).filter(|s| !s.is_empty());
    let users: Vec<&Message> = messages.iter().filter(|m| m.role == Role::User).collect();
    let Some((latest, earlier)) = users.split_last() else {
        return match agent {
            Some(a) => format!(
                "Hello! I'm {a}, a mock assistant running offline. Tell me something and ask me about it later."
            ),
            None => String::from(
                "Hello! I'm a mock assistant running offline. Tell me something and ask me about it later.",
            ),
        };
    };
    let turn = users.len();
    let text = latest.content.trim();
    let lc = text.to_ascii_lowercase();

    // System text: the request's prompt plus system-role messages (summaries, notes).
    let mut system_texts: Vec<&str> = system.into_iter().collect();
    system_texts.extend(
        messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str()),
    );

    let mut known = Facts::default();
    for s in &system_texts {
        known.read(s);
    }
    for m in earlier {
        known.read(&m.content);
    }

    if has_any(&lc, &["summarize", "summarise", "summary"]) {
        // The summary request usually carries the transcript itself.
        let mut all = known.clone();
        all.read(text);
        return all.summary(earlier.len());
    }
    if has_any(
        &lc,
        &[
            "what did i just say",
            "what did i say",
            "what was my last message",
            "what was my previous message",
        ],
    ) {
        return match earlier.last() {
            Some(prev) => format!("You just said: \"{}\"", clip(prev.content.trim(), 200)),
            None => format!("{NO_INFO} This is the first message you've sent me in this session."),
        };
    }
    if lc.contains("how many") && has_any(&lc, &["message", "times", "things", "questions"]) {
        return format!(
            "Before this one, I can see {} earlier message{} from you in this session; this is message {turn}.",
            earlier.len(),
            if earlier.len() == 1 { "" } else { "s" },
        );
    }
    if has_any(
        &lc,
        &[
            "what is my name",
            "what's my name",
            "whats my name",
            "do you know my name",
            "do you remember my name",
            "who am i",
            "tell me my name",
        ],
    ) {
        return match &known.name {
            Some(n) => format!("Your name is {n}."),
            None => format!("{NO_INFO} You haven't told me your name in this session."),
        };
    }
    if has_any(&lc, &["where do i live", "where i live", "where am i from"]) {
        return match &known.location {
            Some(l) => format!("You live in {l}."),
            None => format!("{NO_INFO} You haven't told me where you live."),
        };
    }
    if has_any(
        &lc,
        &["what do i like", "what do i love", "what do i enjoy"],
    ) {
        return if known.likes.is_empty() {
            format!("{NO_INFO} You haven't told me what you like.")
        } else {
            format!("You like {}.", join_and(&known.likes))
        };
    }
    if let Some(topic) = favorite_question(text, &lc) {
        let found = known
            .favorites
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(&topic));
        return match found {
            Some((k, v)) => format!("Your favorite {k} is {v}."),
            None => format!("{NO_INFO} You haven't told me your favorite {topic}."),
        };
    }
    if has_any(
        &lc,
        &[
            "who are you",
            "what is your name",
            "what's your name",
            "whats your name",
        ],
    ) {
        return match agent {
            Some(a) => format!(
                "I'm {a}, a mock assistant. I run offline and answer only from this session's history."
            ),
            None => String::from(
                "I'm a mock assistant. I run offline and answer only from this session's history.",
            ),
        };
    }
    if has_any(&lc, &["your instructions", "system prompt"]) {
        return match system_texts.iter().find(|s| !s.trim().is_empty()) {
            Some(s) => format!("My instructions say: \"{}\"", clip(s.trim(), 200)),
            None => format!("{NO_INFO} I was given no instructions."),
        };
    }

    let mut stated = Facts::default();
    stated.read(text);
    let ack = stated.acknowledgement();
    if !ack.is_empty() {
        return format!("{ack} I'll remember that.");
    }

    let greeting = match (turn, agent) {
        (1, Some(a)) => format!("Hi, I'm {a}! "),
        (1, None) => String::from("Hi! "),
        _ => String::new(),
    };
    let seen = match earlier.len() {
        0 => String::from("."),
        1 => String::from(", and I can see your 1 earlier message."),
        n => format!(", and I can see your {n} earlier messages."),
    };
    format!(
        "{greeting}You said: \"{}\". This is message {turn} of our conversation{seen}",
        clip(text, 100)
    )
}

/// A rough token count for the mock: about four characters per token, as OpenAI's rule of
/// thumb for English.
pub fn mock_usage(messages: &[Message], reply: &str) -> Usage {
    let input: u64 = messages
        .iter()
        .map(|m| {
            estimate_tokens(&m.content)
                + m.tool_calls
                    .iter()
                    .map(|c: &ToolCall| estimate_tokens(&c.arguments) + estimate_tokens(&c.name))
                    .sum::<u64>()
        })
        .sum();
    let output = estimate_tokens(reply);
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input.saturating_add(output),
    }
}

fn estimate_tokens(text: &str) -> u64 {
    let chars = text.chars().count() as u64;
    chars.div_ceil(4)
}

/// The reply cut into word-sized pieces (each word with the whitespace after it), for a
/// streaming imitation. The pieces concatenate back to `reply`.
pub fn mock_chunks(reply: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_space = false;
    for c in reply.chars() {
        let space = c.is_whitespace();
        if prev_space && !space && cur.chars().any(|c| !c.is_whitespace()) {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
        prev_space = space;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The events a streaming provider would emit for `reply`, so the mock can drive the same
/// consumer code as a real stream.
pub fn mock_stream_events(model: &str, reply: &str, usage: Usage) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::Model(model.to_owned())];
    events.extend(mock_chunks(reply).into_iter().map(StreamEvent::TextDelta));
    events.push(StreamEvent::Usage(usage));
    events.push(StreamEvent::Finish {
        reason: "stop".into(),
    });
    events
}

#[derive(Debug, Clone, Default)]
struct Facts {
    name: Option<String>,
    location: Option<String>,
    likes: Vec<String>,
    /// (topic, value); later statements win.
    favorites: Vec<(String, String)>,
}

const NAME_PATTERNS: &[&str] = &[
    "my name is ",
    "call me ",
    "i am called ",
    "i'm called ",
    "the user's name is ",
    "user's name is ",
];
const LOCATION_PATTERNS: &[&str] = &["i live in ", "the user lives in ", "user lives in "];
const LIKE_PATTERNS: &[&str] = &[
    "i like ",
    "i love ",
    "i enjoy ",
    "the user likes ",
    "user likes ",
];
const FAVORITE_PATTERNS: &[&str] = &[
    "my favorite ",
    "my favourite ",
    "the user's favorite ",
    "user's favorite ",
];

impl Facts {
    /// Reads every statement of `text`. Questions are skipped, so "Is my name Sarah?" teaches
    /// nothing.
    fn read(&mut self, text: &str) {
        for (sentence, is_question) in sentences(text) {
            if is_question {
                continue;
            }
            let lc = sentence.to_ascii_lowercase();
            for p in NAME_PATTERNS {
                if let Some(v) = value_after(sentence, &lc, p) {
                    self.name = Some(first_words(&v, 3));
                }
            }
            for p in LOCATION_PATTERNS {
                if let Some(v) = value_after(sentence, &lc, p) {
                    self.location = Some(v);
                }
            }
            for p in LIKE_PATTERNS {
                if let Some(v) = value_after(sentence, &lc, p) {
                    if !self.likes.iter().any(|l| l.eq_ignore_ascii_case(&v)) {
                        self.likes.push(v);
                    }
                }
            }
            for p in FAVORITE_PATTERNS {
                let Some(rest) = value_after(sentence, &lc, p) else {
                    continue;
                };
                let rest_lc = rest.to_ascii_lowercase();
                if let Some(is_at) = rest_lc.find(" is ") {
                    let topic = rest.get(..is_at).unwrap_or_default().trim();
                    let value = rest.get(is_at + 4..).unwrap_or_default();
                    let value = trim_value(value);
                    if !topic.is_empty() && !value.is_empty() {
                        self.favorites
                            .retain(|(k, _)| !k.eq_ignore_ascii_case(topic));
                        self.favorites.push((topic.to_owned(), value));
                    }
                }
            }
        }
    }

    fn acknowledgement(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.name {
            parts.push(format!("Nice to meet you, {n}!"));
        }
        if let Some(l) = &self.location {
            parts.push(format!("{l} sounds like a nice place to live."));
        }
        if !self.likes.is_empty() {
            parts.push(format!("Good to know you like {}.", join_and(&self.likes)));
        }
        for (k, v) in &self.favorites {
            parts.push(format!("Noted: your favorite {k} is {v}."));
        }
        parts.join(" ")
    }

    /// Written in the third person so that a stored summary is read back as facts.
    fn summary(&self, earlier_count: usize) -> String {
        let mut s = String::from("Summary of the conversation so far:");
        if let Some(n) = &self.name {
            s.push_str(&format!(" The user's name is {n}."));
        }
        if let Some(l) = &self.location {
            s.push_str(&format!(" The user lives in {l}."));
        }
        for like in &self.likes {
            s.push_str(&format!(" The user likes {like}."));
        }
        for (k, v) in &self.favorites {
            s.push_str(&format!(" The user's favorite {k} is {v}."));
        }
        s.push_str(&format!(
            " The user had sent {earlier_count} earlier message{}.",
            if earlier_count == 1 { "" } else { "s" }
        ));
        s
    }
}

/// Splits on sentence ends and line breaks, telling which pieces were questions.
fn sentences(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | '\n') {
            if let Some(s) = text.get(start..i) {
                if !s.trim().is_empty() {
                    out.push((s, c == '?'));
                }
            }
            start = i + c.len_utf8();
        }
    }
    if let Some(s) = text.get(start..) {
        if !s.trim().is_empty() {
            out.push((s, false));
        }
    }
    out
}

/// The text following `pattern` (matched at a word start) in `sentence`, up to a clause break.
/// `lc` is the ASCII-lowercased sentence: same byte offsets as the original.
fn value_after(sentence: &str, lc: &str, pattern: &str) -> Option<String> {
    let mut from = 0;
    while let Some(rel) = lc.get(from..)?.find(pattern) {
        let at = from + rel;
        let word_start = lc
            .get(..at)
            .and_then(|s| s.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric() && c != '\'');
        if word_start {
            let rest = sentence.get(at + pattern.len()..)?;
            let v = trim_value(rest);
            return if v.is_empty() { None } else { Some(v) };
        }
        from = at + pattern.len();
    }
    None
}

/// Cuts a value at the first clause break and strips quotes and punctuation around it.
fn trim_value(rest: &str) -> String {
    let lc = rest.to_ascii_lowercase();
    let mut end = rest.len();
    for stop in [",", ";", ":", " and ", " but ", " because ", " so "] {
        if let Some(i) = lc.find(stop) {
            end = end.min(i);
        }
    }
    let v = rest.get(..end).unwrap_or_default();
    let v = v
        .trim()
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '.' | '!' | '“' | '”'))
        .trim();
    clip(v, 60)
}

fn first_words(s: &str, n: usize) -> String {
    s.split_whitespace().take(n).collect::<Vec<_>>().join(" ")
}

/// "What is my favorite color?" → "color".
fn favorite_question(text: &str, lc: &str) -> Option<String> {
    let asks = lc.contains('?') || lc.starts_with("what") || lc.starts_with("do you");
    if !asks {
        return None;
    }
    for p in ["my favorite ", "my favourite "] {
        if let Some(at) = lc.find(p) {
            let rest = text.get(at + p.len()..)?;
            let topic = rest
                .split(['?', '.', '!', ','])
                .next()
                .unwrap_or_default()
                .trim();
            // "What is my favorite color" or "my favorite color is what?"
            let topic = topic
                .to_ascii_lowercase()
                .find(" is")
                .and_then(|i| topic.get(..i))
                .unwrap_or(topic)
                .trim();
            if !topic.is_empty() {
                return Some(topic.to_owned());
            }
        }
    }
    None
}

fn has_any(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| haystack.contains(n))
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assistant, msg, user};
    use super::*;
    use proptest::prelude::*;

    /// A session where the user and the mock took turns, ending with `last` from the user.
    fn session(user_turns: &[&str], last: &str) -> Vec<Message> {
        let mut h = Vec::new();
        for t in user_turns {
            h.push(user(t));
            h.push(assistant("ok"));
        }
        h.push(user(last));
        h
    }

    #[test]
    fn recalls_the_name_given_earlier_in_the_session() {
        let h = session(&["My name is Sarah."], "What is my name?");
        assert!(mock_reply(None, None, &h).contains("Your name is Sarah."));
    }

    #[test]
    fn says_it_does_not_know_a_name_never_given() {
        let h = session(&["Hello there."], "What is my name?");
        assert!(mock_reply(None, None, &h).contains("I don't have that information."));
        let h = session(&[], "What is my name?");
        assert!(mock_reply(None, None, &h).contains("I don't have that information."));
    }

    #[test]
    fn a_question_about_the_name_teaches_nothing() {
        let h = session(&["Is my name is Bob?"], "What's my name?");
        assert!(mock_reply(None, None, &h).contains("I don't have that information."));
    }

    #[test]
    fn later_statements_override_earlier_ones() {
        let h = session(
            &["My name is Sarah.", "Actually, call me Sam."],
            "what's my name",
        );
        assert!(mock_reply(None, None, &h).contains("Your name is Sam."));
    }

    #[test]
    fn recalls_location_likes_and_favorites() {
        let h = session(
            &["I live in Lisbon and I like green tea, but not coffee. My favorite color is blue."],
            "Where do I live?",
        );
        assert!(mock_reply(None, None, &h).contains("You live in Lisbon."));
        let h = session(&["I like green tea.", "I love hiking!"], "What do I like?");
        assert!(mock_reply(None, None, &h).contains("You like green tea and hiking."));
        let h = session(
            &["My favorite color is blue."],
            "What is my favorite color?",
        );
        assert!(mock_reply(None, None, &h).contains("Your favorite color is blue."));
        let h = session(&["My favorite color is blue."], "What is my favorite food?");
        assert!(mock_reply(None, None, &h).contains("I don't have that information."));
    }

    #[test]
    fn reads_facts_from_a_summary_in_the_system_text() {
        let h = session(&[], "What is my name?");
        let reply = mock_reply(
            None,
            Some("Summary of the conversation so far: The user's name is Sarah."),
            &h,
        );
        assert!(reply.contains("Your name is Sarah."));
        // A system-role message works the same way.
        let mut h2 = vec![msg(Role::System, "The user lives in Oslo.")];
        h2.push(user("Where do I live?"));
        assert!(mock_reply(None, None, &h2).contains("You live in Oslo."));
    }

    #[test]
    fn summary_is_readable_back_as_facts() {
        let h = session(
            &["My name is Sarah.", "I live in Lisbon."],
            "Summarize the conversation.",
        );
        let summary = mock_reply(None, None, &h);
        assert!(summary.contains("The user's name is Sarah."), "{summary}");
        let h2 = session(&[], "Where do I live?");
        assert!(mock_reply(None, Some(&summary), &h2).contains("You live in Lisbon."));
    }

    #[test]
    fn counts_earlier_user_messages() {
        let h = session(&["a", "b", "c"], "How many messages have I sent?");
        let r = mock_reply(None, None, &h);
        assert!(r.contains("3 earlier messages"), "{r}");
        assert!(r.contains("message 4"), "{r}");
    }

    #[test]
    fn quotes_the_previous_user_message() {
        let h = session(&["I had pancakes for breakfast."], "What did I just say?");
        assert_eq!(
            mock_reply(None, None, &h),
            "You just said: \"I had pancakes for breakfast.\""
        );
        let h = session(&[], "What did I just say?");
        assert!(mock_reply(None, None, &h).contains("I don't have that information."));
    }

    #[test]
    fn acknowledges_a_new_fact() {
        let r = mock_reply(None, None, &session(&[], "My name is Sarah."));
        assert!(r.contains("Nice to meet you, Sarah!"), "{r}");
    }

    #[test]
    fn generic_reply_references_the_message_and_turn() {
        let r = mock_reply(Some("Ada"), None, &session(&[], "Tell me a joke"));
        assert_eq!(
            r,
            "Hi, I'm Ada! You said: \"Tell me a joke\". This is message 1 of our conversation."
        );
        let r = mock_reply(Some("Ada"), None, &session(&["x"], "And another"));
        assert!(r.contains("\"And another\""), "{r}");
        assert!(r.contains("message 2"), "{r}");
        assert!(r.contains("1 earlier message."), "{r}");
    }

    #[test]
    fn introduces_itself_by_agent_name() {
        let r = mock_reply(Some("Ada"), None, &session(&[], "Who are you?"));
        assert!(r.starts_with("I'm Ada"), "{r}");
    }

    #[test]
    fn quotes_its_instructions() {
        let r = mock_reply(
            None,
            Some("Answer in French."),
            &session(&[], "What is your system prompt?"),
        );
        assert!(r.contains("\"Answer in French.\""), "{r}");
    }

    #[test]
    fn empty_history_gets_a_greeting() {
        assert!(mock_reply(Some("Ada"), None, &[]).contains("Ada"));
    }

    #[test]
    fn usage_estimates_four_characters_per_token() {
        let u = mock_usage(&[user("12345678"), assistant("1")], "abcde");
        assert_eq!(
            u,
            Usage {
                input_tokens: 3,
                output_tokens: 2,
                total_tokens: 5
            }
        );
    }

    #[test]
    fn chunks_are_words_with_their_trailing_space() {
        assert_eq!(
            mock_chunks("Your name is  Sarah."),
            ["Your ", "name ", "is  ", "Sarah."]
        );
        assert!(mock_chunks("").is_empty());
        assert_eq!(mock_chunks("  lead"), ["  lead"]);
    }

    #[test]
    fn stream_events_fold_back_into_the_reply() {
        let u = Usage {
            input_tokens: 1,
            output_tokens: 2,
            total_tokens: 3,
        };
        let events = mock_stream_events("mock", "Hi there!", u);
        let r = super::super::ChatResponse::from_events(&events);
        assert_eq!(r.content, "Hi there!");
        assert_eq!(r.usage, Some(u));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    }

    proptest! {
        #[test]
        fn chunks_concatenate_to_the_reply(s in "\\PC{0,60}") {
            prop_assert_eq!(mock_chunks(&s).concat(), s);
        }

        #[test]
        fn reply_is_deterministic_and_never_panics(
            turns in proptest::collection::vec("\\PC{0,40}", 0..5),
            system in proptest::option::of("\\PC{0,40}"),
        ) {
            let h: Vec<Message> = turns.iter().map(|t| user(t)).collect();
            let a = mock_reply(Some("x"), system.as_deref(), &h);
            let b = mock_reply(Some("x"), system.as_deref(), &h);
            prop_assert_eq!(a, b);
        }
    }
}
