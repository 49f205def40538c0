//! The context strategies through the run engine: what is read, what is sent, summaries made by
//! the model and used on the next call, fallbacks, calibration.

use super::*;
use crate::core::context::build::{build, Inputs, SummaryChoice};
use crate::core::context::window::DropReason;
use crate::core::context::{ContextConfig, Strategy};
use crate::core::model::{Session, Summary};
use crate::core::store::{MessageQuery, Store};

fn config(strategy: Strategy) -> ContextConfig {
    ContextConfig {
        strategy,
        max_messages: None,
    }
}

fn summary_buffer(budget: u32) -> Strategy {
    Strategy::SummaryBuffer {
        budget,
        threshold: 0.8,
        target: 0.5,
    }
}

impl World {
    async fn say(&self, id: &str, role: &str, text: &str) -> Message {
        self.manager
            .add_message(
                id,
                NewMessage {
                    role: role.into(),
                    content: Some(serde_json::Value::String(text.into())),
                    ..NewMessage::default()
                },
            )
            .await
            .unwrap()
    }

    async fn preview(
        &self,
        id: &str,
        provider: Provider,
    ) -> Result<crate::core::context::build::Built> {
        let session = self.manager.require(id).await?;
        let inputs = self.settings.context_inputs(&session, Some(provider));
        build(&**self.manager.store(), &session, &inputs).await
    }

    fn event_names(&self) -> Vec<String> {
        self.events.borrow().clone()
    }

    fn sent_messages(&self, i: usize) -> Vec<serde_json::Value> {
        let body: serde_json::Value =
            serde_json::from_str(&self.http.requests.borrow()[i].body).unwrap();
        body["messages"].as_array().unwrap().clone()
    }
}

fn json_reply(content: &str, prompt_tokens: u64) -> Scripted {
    let body = serde_json::json!({
        "id": "x", "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 5, "total_tokens": prompt_tokens + 5}
    })
    .to_string();
    ok_body(vec![Piece::Bytes(Box::leak(body.into_boxed_str()))])
}

/// A store that counts the messages it hands out.
struct CountingStore {
    inner: MemoryStore,
    read: Cell<usize>,
}

#[async_trait(?Send)]
impl Store for CountingStore {
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        self.inner.get_session(id).await
    }
    async fn put_session(&self, s: &Session) -> Result<()> {
        self.inner.put_session(s).await
    }
    async fn list_sessions(&self) -> Result<Vec<Session>> {
        self.inner.list_sessions().await
    }
    async fn delete_session(&self, id: &str) -> Result<()> {
        self.inner.delete_session(id).await
    }
    async fn put_message(&self, s: &Session, m: &Message) -> Result<()> {
        self.inner.put_message(s, m).await
    }
    async fn get_messages(&self, id: &str, q: MessageQuery) -> Result<Vec<Message>> {
        let out = self.inner.get_messages(id, q).await?;
        self.read.set(self.read.get() + out.len());
        Ok(out)
    }
    async fn clear_messages(&self, s: &Session) -> Result<()> {
        self.inner.clear_messages(s).await
    }
    async fn write_messages(&self, s: &Session, delete: &[u64], put: &[Message]) -> Result<()> {
        self.inner.write_messages(s, delete, put).await
    }
    async fn put_run(&self, r: &Run) -> Result<()> {
        self.inner.put_run(r).await
    }
    async fn get_runs(&self, id: &str) -> Result<Vec<Run>> {
        self.inner.get_runs(id).await
    }
    async fn put_summary(&self, s: &Summary) -> Result<()> {
        self.inner.put_summary(s).await
    }
    async fn get_summaries(&self, id: &str) -> Result<Vec<Summary>> {
        self.inner.get_summaries(id).await
    }
    async fn delete_summary(&self, id: &str, sid: &str) -> Result<()> {
        self.inner.delete_summary(id, sid).await
    }
    async fn get_meta(&self, k: &str) -> Result<Option<String>> {
        self.inner.get_meta(k).await
    }
    async fn put_meta(&self, k: &str, v: &str) -> Result<()> {
        self.inner.put_meta(k, v).await
    }
}

#[test]
fn a_token_window_reads_only_the_pages_it_needs_however_long_the_history() {
    let store = Rc::new(CountingStore {
        inner: MemoryStore::new(),
        read: Cell::new(0),
    });
    let manager = SessionManager::new(
        store.clone(),
        Rc::new(StepClock(Cell::new(0.0))),
        Rc::new(SeqRandom::new(3)),
        ManagerConfig::default(),
    );
    block_on(async {
        manager
            .create(Some("long"), CreateOptions::default())
            .await
            .unwrap();
        for i in 0..5000 {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            let new = NewMessage {
                role: role.into(),
                content: Some(format!("message number {i} with a few words in it").into()),
                ..NewMessage::default()
            };
            manager.add_message("long", new).await.unwrap();
        }
        let session = manager.require("long").await.unwrap();
        let inputs = Inputs {
            config: config(Strategy::TokenWindow { budget: 500 }),
            fixed_tokens: 0,
            user_first: false,
            pending: None,
            summary: SummaryChoice::Stored,
        };
        store.read.set(0);
        let built = build(&*store, &session, &inputs).await.unwrap();
        assert!(built.tokens <= 500);
        assert!(built.messages.len() > 20, "{}", built.messages.len());
        assert_eq!(built.messages.last().unwrap().seq, 4999);
        assert_eq!(built.messages[0].role, Role::User);
        // Pages of 64 then 128: a fixed cost, nothing like the 5000 messages stored.
        assert!(store.read.get() <= 192, "read {}", store.read.get());
        assert!(built.omitted_before_seq.is_some());
        // full reads everything, by contrast.
        store.read.set(0);
        let mut all = inputs.clone();
        all.config = config(Strategy::Full);
        assert_eq!(
            build(&*store, &session, &all).await.unwrap().messages.len(),
            5000
        );
        assert_eq!(store.read.get(), 5000);
    });
}

#[test]
fn the_request_sends_exactly_what_the_preview_shows() {
    let mut w = world();
    w.settings.context = config(Strategy::TokenWindow { budget: 60 });
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        for i in 0..10 {
            w.say(
                "s",
                "user",
                &format!("question {i} about the weather today"),
            )
            .await;
            w.say(
                "s",
                "assistant",
                &format!("answer {i} about the weather today"),
            )
            .await;
        }
        w.say("s", "user", "and tomorrow?").await;
        let preview = w.preview("s", Provider::OpenAi).await.unwrap();
        assert!(preview.tokens <= 60);
        assert!(preview.messages.len() < 21);
        w.http.script.borrow_mut().push(Ok(json_reply("ok", 10)));
        Turn {
            manager: &w.manager,
            model: &model,
            timer: &*w.timer,
            settings: &w.settings,
            cancel: None,
            stream: false,
            on_event: &|_| {},
            on_item: &|_| {},
        }
        .run("s", None)
        .await
        .unwrap();
        let sent = w.sent_messages(0);
        // The system prompt, then the preview's messages, in order.
        assert_eq!(sent[0]["role"], "system");
        let sent_text: Vec<&str> = sent[1..]
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        let previewed: Vec<&str> = preview
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect();
        assert_eq!(sent_text, previewed);
        // The run recorded the estimate it sent, for calibration.
        let runs = w.manager.runs("s").await.unwrap();
        assert_eq!(
            runs[0].estimated_input_tokens,
            Some(u64::from(preview.tokens))
        );
    });
}

#[test]
fn a_new_turn_over_the_budget_is_context_too_large_and_stores_nothing() {
    let mut w = world();
    w.settings.context = config(Strategy::TokenWindow { budget: 20 });
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        let long = "word ".repeat(100);
        let e = w.turn(&model, "s", &long, false, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ContextTooLarge);
        assert!(w.history("s").await.is_empty());
        // A short one is fine.
        w.turn(&model, "s", "hi", false, None).await.unwrap();
    });
}

#[test]
fn buffer_window_sends_the_newest_messages_from_a_user_turn() {
    let mut w = world();
    w.settings.context = config(Strategy::BufferWindow { window_size: 3 });
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "My name is Sarah.", false, None)
            .await
            .unwrap();
        w.turn(&model, "s", "I live in Lisbon.", false, None)
            .await
            .unwrap();
        let r = w
            .turn(&model, "s", "What is my name?", false, None)
            .await
            .unwrap();
        assert!(r.content.contains("don't have"), "{}", r.content);
        let p = w.preview("s", Provider::Mock).await.unwrap();
        assert!(p.messages.len() <= 3);
        assert_eq!(p.messages[0].role, Role::User);
    });
}

#[test]
fn summary_buffer_summarises_through_the_model_and_uses_the_summary_next_time() {
    let mut w = world();
    w.settings.context = config(summary_buffer(400));
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "My name is Sarah.", false, None)
            .await
            .unwrap();
        for i in 0..12 {
            w.turn(
                &model,
                "s",
                &format!("Here is filler message number {i} with several words."),
                false,
                None,
            )
            .await
            .unwrap();
        }
        let summaries = w.manager.summaries("s").await.unwrap();
        assert!(!summaries.is_empty(), "no summary was made");
        let first = &summaries[0];
        assert!(
            first.content.contains("The user's name is Sarah"),
            "{}",
            first.content
        );
        assert_eq!(first.model.as_deref(), Some("mock-1"));
        assert!(first.tokens > 0);
        let history = w.manager.history("s", None).await.unwrap();
        // Covers the oldest messages, on a turn boundary; the originals stay in history.
        assert_eq!(first.covers[0], history[0].id);
        assert_eq!(history.len(), 26);
        let next = history
            .iter()
            .find(|m| m.seq == first.through_seq + 1)
            .unwrap();
        assert_eq!(next.role, Role::User);
        assert!(w.event_names().contains(&"context:summarized".to_owned()));
        // The context is now system + summary + newest turns, under target × budget (unless the
        // last reply pushed it over the threshold again: then a roll-up is due).
        let p = w.preview("s", Provider::Mock).await.unwrap();
        match &p.job {
            None => {
                assert!(p.summary.is_some());
                assert_eq!(p.messages[0].role, Role::System);
                assert!(p.tokens <= 320, "{}", p.tokens);
            }
            Some(job) => assert!(job.previous.is_some()),
        }
        // The first message is long out of the window, but the summary remembers.
        let r = w
            .turn(&model, "s", "What is my name?", false, None)
            .await
            .unwrap();
        assert_eq!(r.content, "Your name is Sarah.");
        // Roll-ups: each later summary folds the one before it, never the whole history.
        let all = w.manager.summaries("s").await.unwrap();
        for pair in all.windows(2) {
            assert_eq!(pair[1].rolls_up.as_deref(), Some(pair[0].id.as_str()));
            assert!(pair[1].covers.iter().all(|id| !pair[0].covers.contains(id)));
        }
    });
}

#[test]
fn removing_a_summary_falls_back_on_the_one_before() {
    let mut w = world();
    w.settings.context = config(summary_buffer(300));
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "My name is Sarah.", false, None)
            .await
            .unwrap();
        for i in 0..20 {
            w.turn(
                &model,
                "s",
                &format!("Filler number {i} with several more words."),
                false,
                None,
            )
            .await
            .unwrap();
        }
        let all = w.manager.summaries("s").await.unwrap();
        assert!(all.len() >= 2, "{}", all.len());
        let newest = all.last().unwrap().clone();
        assert_eq!(
            w.preview("s", Provider::Mock)
                .await
                .unwrap()
                .summary
                .unwrap()
                .id,
            newest.id
        );
        assert!(w.manager.remove_summary("s", &newest.id).await.unwrap());
        assert!(!w.manager.remove_summary("s", &newest.id).await.unwrap());
        let before = &all[all.len() - 2];
        let p = w.preview("s", Provider::Mock).await.unwrap();
        // The previous summary is active again (a new roll-up may be due: the preview says so).
        assert_eq!(p.summary.as_ref().unwrap().id, before.id);
    });
}

#[test]
fn a_failed_summarisation_falls_back_to_token_window_and_the_call_succeeds() {
    let mut w = world();
    w.settings.context = config(summary_buffer(300));
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        for i in 0..30 {
            w.say("s", "user", &format!("message {i} with some words in it"))
                .await;
            w.say(
                "s",
                "assistant",
                &format!("reply {i} with some words in it"),
            )
            .await;
        }
        // The summary request fails (500, then retries are not made for it); the turn's own
        // request succeeds.
        w.http.script.borrow_mut().push(Ok(status(500, vec![])));
        w.http.script.borrow_mut().push(Ok(json_reply("fine", 50)));
        let r = w
            .turn(&model, "s", "still there?", false, None)
            .await
            .unwrap();
        assert_eq!(r.content, "fine");
        assert!(w
            .event_names()
            .contains(&"context:summary_failed".to_owned()));
        assert!(w.manager.summaries("s").await.unwrap().is_empty());
        assert!(w.http.requests.borrow()[0].body.contains("Summarize"));
        let requests = w.http.requests.borrow().len();
        assert_eq!(requests, 2);
        // The turn's request is a token window of the budget, opening on a user turn.
        let sent = w.sent_messages(1);
        assert_eq!(sent[1]["role"], "user");
        assert_eq!(sent.last().unwrap()["content"], "still there?");
        assert!(sent.len() < 60);
    });
}

#[test]
fn an_aborted_summarisation_ends_the_call_as_aborted() {
    let mut w = world();
    w.settings.context = config(summary_buffer(300));
    let model = w.http_model();
    let token = CancelToken::new();
    let t2 = token.clone();
    *w.http.on_send.borrow_mut() = Some(Box::new(move || t2.cancel()));
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Stall])));
    block_on(async {
        w.session("s").await;
        for i in 0..30 {
            w.say("s", "user", &format!("message {i} with some words in it"))
                .await;
            w.say(
                "s",
                "assistant",
                &format!("reply {i} with some words in it"),
            )
            .await;
        }
        let e = w
            .turn(&model, "s", "still there?", false, Some(&token))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Aborted);
        assert!(!w
            .event_names()
            .contains(&"context:summary_failed".to_owned()));
        // It was the summary request that was cut short.
        assert_eq!(w.http.requests.borrow().len(), 1);
        assert!(w.http.requests.borrow()[0].body.contains("Summarize"));
        let runs = w.manager.runs("s").await.unwrap();
        assert_eq!(runs[0].status, RunStatus::Aborted);
    });
}

#[test]
fn reported_usage_calibrates_the_budget() {
    let mut w = world();
    w.settings.context = config(Strategy::TokenWindow { budget: 400 });
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        for i in 0..30 {
            w.say("s", "user", &format!("message {i} with some words in it"))
                .await;
            w.say(
                "s",
                "assistant",
                &format!("reply {i} with some words in it"),
            )
            .await;
        }
        let before = w.preview("s", Provider::OpenAi).await.unwrap();
        // The provider counts twice what we estimate.
        let reported = u64::from(before.tokens) * 2;
        w.http
            .script
            .borrow_mut()
            .push(Ok(json_reply("ok", reported)));
        w.turn(&model, "s", "go on", false, None).await.unwrap();
        let session = w.manager.require("s").await.unwrap();
        let ratio = session.calibration.unwrap().ratio;
        assert!((ratio - 2.0).abs() < 0.1, "{ratio}");
        let after = w.preview("s", Provider::OpenAi).await.unwrap();
        assert!((after.calibration - ratio).abs() < 1e-9);
        // Half the estimated tokens now fit in the same budget.
        assert!(after.tokens <= 200, "{}", after.tokens);
        assert!(after.tokens > 100, "{}", after.tokens);
    });
}

#[test]
fn interrupted_replies_are_sent_and_failed_ones_are_not() {
    let w = world();
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        w.say("s", "user", "one").await;
        w.manager
            .add_message(
                "s",
                NewMessage {
                    role: "assistant".into(),
                    content: Some("half a rep".into()),
                    status: Some(MessageStatus::Interrupted),
                    ..NewMessage::default()
                },
            )
            .await
            .unwrap();
        w.say("s", "user", "two").await;
        w.manager
            .add_message(
                "s",
                NewMessage {
                    role: "assistant".into(),
                    content: Some("garbled".into()),
                    status: Some(MessageStatus::Error),
                    ..NewMessage::default()
                },
            )
            .await
            .unwrap();
        let p = w.preview("s", Provider::OpenAi).await.unwrap();
        assert_eq!(p.dropped.len(), 1);
        assert_eq!(p.dropped[0].2, DropReason::Failed);
        w.http.script.borrow_mut().push(Ok(json_reply("ok", 10)));
        w.turn(&model, "s", "three", false, None).await.unwrap();
        let sent: Vec<String> = w
            .sent_messages(0)
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(sent, ["Be brief.", "one", "half a rep", "two", "three"]);
    });
}

#[test]
fn anthropic_and_gemini_requests_open_on_a_user_turn() {
    let w = world();
    block_on(async {
        w.session("s").await;
        w.say("s", "assistant", "Welcome! How can I help?").await;
        w.say("s", "user", "hello").await;
        assert_eq!(
            w.preview("s", Provider::OpenAi)
                .await
                .unwrap()
                .messages
                .len(),
            2
        );
        let a = w.preview("s", Provider::Anthropic).await.unwrap();
        assert_eq!(a.messages.len(), 1);
        assert_eq!(a.messages[0].role, Role::User);
        assert_eq!(a.dropped[0].2, DropReason::BeforeUserTurn);
    });
}

#[test]
fn a_session_max_messages_caps_every_strategy() {
    let mut w = world();
    w.settings.context = config(Strategy::TokenWindow { budget: 10_000 });
    block_on(async {
        w.manager
            .create(
                Some("s"),
                CreateOptions {
                    max_messages: Some(4),
                    ..CreateOptions::default()
                },
            )
            .await
            .unwrap();
        for i in 0..10 {
            w.say("s", "user", &format!("u{i}")).await;
            w.say("s", "assistant", &format!("a{i}")).await;
        }
        let p = w.preview("s", Provider::OpenAi).await.unwrap();
        assert_eq!(p.messages.len(), 4);
        assert_eq!(p.messages[0].content, "u8");
    });
}
