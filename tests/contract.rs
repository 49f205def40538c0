//! The hand-written JavaScript contract, checked against the Rust that implements it: the error
//! codes and event names the core declares must be exactly those `src/bindings/types.d.ts` and
//! the README list. (The classes and the values the built package returns are checked against
//! the declarations by `tests/js/contract.test.mjs` and its `tsc --strict` step.)

use std::collections::BTreeSet;

use agent_sessions::core::agent::AgentEvent;
use agent_sessions::core::error::ErrorCode;
use agent_sessions::core::events::Event;

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

/// The text of `export type {name} = …;` in the declarations.
fn type_alias<'a>(dts: &'a str, name: &str) -> &'a str {
    let head = format!("export type {name} =");
    let start = dts
        .find(&head)
        .unwrap_or_else(|| panic!("types.d.ts declares no `{head}`"));
    let body = &dts[start + head.len()..];
    // Object members inside the union end with `;` too; the alias ends at a line's end.
    &body[..body
        .find(";\n")
        .expect("a type alias ends with `;` at a line's end")]
}

/// Every `"…"` string literal in `text`.
fn string_literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The lines of the README section that starts with `heading`, up to the next `## `.
fn readme_section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no section {heading:?}"));
    let body = &readme[start + heading.len() + 2..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// Every `` `…` `` span in `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Event names as the README writes them: `` `session:created|updated` `` is two names.
fn event_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for span in code_spans(text) {
        let Some((prefix, rest)) = span.split_once(':') else {
            continue;
        };
        if !prefix.chars().all(|c| c.is_ascii_lowercase()) || prefix.is_empty() {
            continue;
        }
        for suffix in rest.split('|') {
            if !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                names.insert(format!("{prefix}:{suffix}"));
            }
        }
    }
    names
}

/// The paragraph (up to a blank line) that starts with `lead` in `text`.
fn paragraph<'a>(text: &'a str, lead: &str) -> &'a str {
    let start = text
        .find(lead)
        .unwrap_or_else(|| panic!("README has no paragraph starting {lead:?}"));
    let body = &text[start..];
    &body[..body.find("\n\n").unwrap_or(body.len())]
}

fn assert_same(what: &str, rust: &BTreeSet<String>, other_name: &str, other: &BTreeSet<String>) {
    let only_rust: Vec<_> = rust.difference(other).collect();
    let only_other: Vec<_> = other.difference(rust).collect();
    assert!(
        only_rust.is_empty() && only_other.is_empty(),
        "{what}: in Rust but not in {other_name}: {only_rust:?}; in {other_name} but not in Rust: {only_other:?}"
    );
}

fn rust_codes() -> BTreeSet<String> {
    ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

#[test]
fn error_codes_are_the_same_in_rust_the_declarations_and_the_readme() {
    let rust = rust_codes();
    assert_eq!(rust.len(), ErrorCode::ALL.len(), "duplicate error code");
    let dts = read("src/bindings/types.d.ts");
    let declared = string_literals(type_alias(&dts, "ErrorCode"));
    assert_same("error codes", &rust, "types.d.ts `ErrorCode`", &declared);

    let readme = read("README.md");
    let table: BTreeSet<String> = readme_section(&readme, "## Errors")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(code, _)| code.to_owned())
        .collect();
    assert_same("error codes", &rust, "the README's error table", &table);
}

#[test]
fn store_event_names_are_the_same_in_rust_the_declarations_and_the_readme() {
    let rust: BTreeSet<String> = Event::NAMES.iter().map(|n| n.to_string()).collect();
    let dts = read("src/bindings/types.d.ts");
    let declared = string_literals(type_alias(&dts, "StoreEventName"));
    assert_same(
        "store events",
        &rust,
        "types.d.ts `StoreEventName`",
        &declared,
    );

    let readme = read("README.md");
    let listed = event_names_in(paragraph(&readme, "- **Events**:"));
    assert_same(
        "store events",
        &rust,
        "the README's Concepts › Events",
        &listed,
    );
}

#[test]
fn agent_event_names_are_the_same_in_rust_the_declarations_and_the_readme() {
    let rust: BTreeSet<String> = AgentEvent::NAMES.iter().map(|n| n.to_string()).collect();
    let dts = read("src/bindings/types.d.ts");
    let union = type_alias(&dts, "AgentEvent");
    let declared: BTreeSet<String> = union
        .split("type: \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(name, _)| name.to_owned())
        .collect();
    assert_same("agent events", &rust, "types.d.ts `AgentEvent`", &declared);

    let readme = read("README.md");
    let listed = event_names_in(paragraph(&readme, "Agent events:"));
    assert_same("agent events", &rust, "the README's Agent events", &listed);
}

#[test]
fn store_and_agent_event_names_do_not_overlap() {
    let store: BTreeSet<&str> = Event::NAMES.iter().copied().collect();
    for name in AgentEvent::NAMES {
        assert!(
            !store.contains(name),
            "{name} is both a store and an agent event"
        );
    }
}
