use std::rc::Rc;

use futures_executor::block_on;
use serde_json::json;

use super::*;
use crate::core::ids::testing::SeqRandom;
use crate::core::io::Clock;
use crate::core::manager::{CreateOptions, ManagerConfig, SessionManager};
use crate::core::model::{NewMessage, ToolCall};
use crate::core::store::MemoryStore;

struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> Millis {
        1_700_000_000_000.0
    }
}

fn manager() -> SessionManager {
    SessionManager::new(
        Rc::new(MemoryStore::new()),
        Rc::new(FixedClock),
        Rc::new(SeqRandom::new(7)),
        ManagerConfig::default(),
    )
}

fn message(role: &str, content: &str) -> NewMessage {
    NewMessage {
        role: role.into(),
        content: Some(Value::String(content.into())),
        ..NewMessage::default()
    }
}

/// A session of `pairs` user/assistant turns (about a dozen estimated tokens per message).
fn session_with(m: &SessionManager, id: &str, pairs: usize, max_messages: Option<u32>) -> Session {
    block_on(async {
        m.create(
            Some(id),
            CreateOptions {
                max_messages,
                ..CreateOptions::default()
            },
        )
        .await
        .unwrap();
        for i in 0..pairs {
            let q = format!("Question {i} about the weather in Lisbon today?");
            m.add_message(id, message("user", &q)).await.unwrap();
            let a = format!("Answer {i}: it is sunny and warm in Lisbon today.");
            m.add_message(id, message("assistant", &a)).await.unwrap();
        }
        m.require(id).await.unwrap()
    })
}

fn llm_options(json: Value) -> MessagesForLlmOptions {
    serde_json::from_value(json).unwrap()
}

fn preview_options(json: Value) -> PreviewOptions {
    serde_json::from_value(json).unwrap()
}

#[test]
fn messages_for_llm_picks_the_strategy_its_options_describe() {
    let m = manager();
    let s = session_with(&m, "s", 1, None);
    let config = |o: Value| messages_for_llm_config(&s, &llm_options(o)).map(|c| c.strategy);
    assert_eq!(config(json!({})).unwrap(), Strategy::Full);
    assert_eq!(
        config(json!({ "maxTokens": 4000, "strategy": "recent" })).unwrap(),
        Strategy::TokenWindow { budget: 4000 }
    );
    assert_eq!(
        config(json!({ "maxMessages": 6 })).unwrap(),
        Strategy::BufferWindow { window_size: 6 }
    );
    // maxTokens wins; maxMessages still caps it.
    let c = messages_for_llm_config(
        &s,
        &llm_options(json!({ "maxTokens": 90, "maxMessages": 4 })),
    )
    .unwrap();
    assert_eq!(c.strategy, Strategy::TokenWindow { budget: 90 });
    assert_eq!(c.max_messages, Some(4));
    for bad in [
        json!({ "strategy": "sliding" }),
        json!({ "maxTokens": 0 }),
        json!({ "maxMessages": 0 }),
        json!({ "maxTokens": 10.5 }),
        json!({ "maxTokens": -1 }),
    ] {
        assert_eq!(
            config(bad.clone()).unwrap_err().code,
            ErrorCode::InvalidArgument,
            "{bad}"
        );
    }
}

#[test]
fn messages_for_llm_honours_the_sessions_cap_and_opens_on_a_user_turn() {
    let m = manager();
    let s = session_with(&m, "capped", 40, Some(50));
    let store = &**m.store();
    let all = block_on(messages_for_llm(
        store,
        &s,
        &MessagesForLlmOptions::default(),
    ))
    .unwrap();
    assert_eq!(all.len(), 50);
    assert_eq!(all[0]["role"], "user");
    let small = block_on(messages_for_llm(
        store,
        &s,
        &llm_options(json!({ "maxTokens": 100 })),
    ))
    .unwrap();
    assert!(!small.is_empty() && small.len() < 12, "{}", small.len());
    assert_eq!(small[0]["role"], "user");
    let e = block_on(messages_for_llm(
        store,
        &s,
        &llm_options(json!({ "maxTokens": 5 })),
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ContextTooLarge);
}

#[test]
fn messages_for_llm_hands_out_what_the_openai_codec_sends() {
    let m = manager();
    block_on(async {
        m.create(Some("t"), CreateOptions::default()).await.unwrap();
        let mut u = message("user", "Weather in Paris?");
        u.name = Some("Sarah Connor".into());
        m.add_message("t", u).await.unwrap();
        let mut call = message("assistant", "");
        call.name = Some("helper".into());
        call.tool_calls = vec![ToolCall {
            id: "call_1".into(),
            name: "clock".into(),
            arguments: String::new(),
        }];
        m.add_message("t", call).await.unwrap();
        let mut result = message("tool", "12:00");
        result.tool_call_id = Some("call_1".into());
        m.add_message("t", result).await.unwrap();
        let s = m.require("t").await.unwrap();
        let out = messages_for_llm(&**m.store(), &s, &MessagesForLlmOptions::default())
            .await
            .unwrap();
        assert_eq!(
            out,
            vec![
                // Only a user message carries a name, in the characters OpenAI accepts.
                json!({ "role": "user", "content": "Weather in Paris?", "name": "Sarah_Connor" }),
                // No name on the assistant; a parameterless call's arguments are JSON.
                json!({ "role": "assistant", "content": null, "tool_calls": [
                    { "id": "call_1", "type": "function",
                      "function": { "name": "clock", "arguments": "{}" } }
                ] }),
                json!({ "role": "tool", "tool_call_id": "call_1", "content": "12:00" }),
            ]
        );
    });
}

#[test]
fn preview_options_without_a_strategy_name_imply_theirs() {
    let m = manager();
    let s = session_with(&m, "s", 1, None);
    let strategy =
        |o: Value| preview_plan(&s, None, &preview_options(o)).map(|p| p.config.strategy);
    assert_eq!(strategy(json!({})).unwrap(), Strategy::Full);
    assert_eq!(
        strategy(json!({ "windowSize": 4 })).unwrap(),
        Strategy::BufferWindow { window_size: 4 }
    );
    assert_eq!(
        strategy(json!({ "maxTokens": 300 })).unwrap(),
        Strategy::TokenWindow { budget: 300 }
    );
    assert_eq!(
        strategy(json!({ "threshold": 0.8, "target": 0.5, "budget": 400 })).unwrap(),
        Strategy::SummaryBuffer {
            budget: 400,
            threshold: 0.8,
            target: 0.5
        }
    );
    assert_eq!(
        strategy(json!({ "strategy": "summary_buffer", "target": 0.9, "threshold": 0.5 }))
            .unwrap_err()
            .code,
        ErrorCode::InvalidArgument
    );
}

#[test]
fn a_preview_starts_from_the_agents_settings_and_its_providers_rules() {
    let m = manager();
    let s = session_with(&m, "s", 1, Some(30));
    let settings = AgentSettings {
        instructions: Some("Be brief.".into()),
        context: ContextConfig {
            strategy: Strategy::TokenWindow { budget: 500 },
            max_messages: None,
        },
        ..AgentSettings::default()
    };
    let agent = |provider| PreviewAgent {
        settings: &settings,
        provider: Some(provider),
    };
    let p = preview_plan(
        &s,
        Some(agent(Provider::Anthropic)),
        &PreviewOptions::default(),
    )
    .unwrap();
    assert_eq!(p.config.strategy, Strategy::TokenWindow { budget: 500 });
    assert_eq!(p.config.max_messages, Some(30), "the session's cap applies");
    assert!(p.user_first);
    assert_eq!(p.system.as_deref(), Some("Be brief."));
    assert_eq!(p.fixed_tokens, settings.fixed_tokens());
    assert!(
        !preview_plan(
            &s,
            Some(agent(Provider::OpenAi)),
            &PreviewOptions::default()
        )
        .unwrap()
        .user_first
    );
    // A call's maxMessages tightens, and given instructions replace the agent's in the preview.
    let o = preview_options(json!({ "maxMessages": 10, "instructions": "Be long." }));
    let p = preview_plan(&s, Some(agent(Provider::OpenAi)), &o).unwrap();
    assert_eq!(p.config.max_messages, Some(10));
    assert_eq!(p.system.as_deref(), Some("Be long."));
    // Without an agent: the defaults, and only the given instructions count as fixed.
    let p = preview_plan(&s, None, &o).unwrap();
    assert_eq!(p.config.strategy, Strategy::Full);
    assert!(!p.user_first);
    assert_eq!(p.fixed_tokens, estimate_message_tokens("Be long.", ""));
}

#[test]
fn a_preview_shows_the_pending_input_and_what_was_dropped() {
    let m = manager();
    let s = block_on(async {
        m.create(Some("a"), CreateOptions::default()).await.unwrap();
        m.add_message("a", message("assistant", "Welcome! How can I help?"))
            .await
            .unwrap();
        m.require("a").await.unwrap()
    });
    let settings = AgentSettings::default();
    let agent = PreviewAgent {
        settings: &settings,
        provider: Some(Provider::Gemini),
    };
    let p = block_on(preview_context(
        &**m.store(),
        &s,
        Some(agent),
        preview_options(json!({ "input": "Hello" })),
        m.now(),
    ))
    .unwrap();
    assert_eq!(p["strategy"], "full");
    assert_eq!(
        p["messages"],
        json!([{ "role": "user", "content": "Hello" }])
    );
    assert_eq!(p["entries"][0]["pending"], true);
    assert_eq!(p["dropped"][0]["reason"], "before_user_turn");
    assert_eq!(p["system"], Value::Null);
    assert_eq!(p["summarize"], Value::Null);
}
