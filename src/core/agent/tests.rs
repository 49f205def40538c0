use std::cell::{Cell, RefCell};
use std::rc::Rc;

use async_trait::async_trait;
use futures_executor::block_on;
use futures_util::future::LocalBoxFuture;

use super::*;
use crate::core::cancel::CancelToken;
use crate::core::ids::testing::SeqRandom;
use crate::core::io::{ByteStream, Clock, HttpClient, HttpResponse};
use crate::core::llm::chat::{EventSource, HttpModel, MockModel};
use crate::core::llm::{HttpRequest, Provider, ProviderConfig};
use crate::core::manager::{CreateOptions, ManagerConfig};
use crate::core::model::Role;
use crate::core::store::MemoryStore;

struct StepClock(Cell<f64>);
impl Clock for StepClock {
    fn now_ms(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

/// Sleeps up to `instant` ms end at once (backoff); longer ones never end (timeouts), unless a
/// test makes its timeouts short. `on_sleep` lets a test act at a given wait.
type SleepHook = Box<dyn Fn(u64)>;

struct FakeTimer {
    instant: u64,
    log: RefCell<Vec<u64>>,
    on_sleep: RefCell<Option<SleepHook>>,
}

impl Timer for FakeTimer {
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        self.log.borrow_mut().push(ms);
        if let Some(hook) = &*self.on_sleep.borrow() {
            hook(ms);
        }
        if ms <= self.instant {
            Box::pin(future::ready(()))
        } else {
            Box::pin(future::pending())
        }
    }
}

#[derive(Clone)]
enum Piece {
    Bytes(&'static str),
    Fail,
    Stall,
}

#[derive(Clone)]
struct Scripted {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<Piece>,
}

fn ok_stream(pieces: &[&'static str]) -> Scripted {
    ok_body(pieces.iter().map(|p| Piece::Bytes(p)).collect())
}

fn ok_body(body: Vec<Piece>) -> Scripted {
    Scripted {
        status: 200,
        headers: vec![],
        body,
    }
}

fn status(code: u16, headers: Vec<(&'static str, &'static str)>) -> Scripted {
    Scripted {
        status: code,
        headers,
        body: vec![Piece::Bytes(
            r#"{"error":{"message":"scripted failure","type":"x"}}"#,
        )],
    }
}

struct FakeBody(Vec<Piece>);

#[async_trait(?Send)]
impl ByteStream for FakeBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.0.is_empty() {
            return Ok(None);
        }
        match self.0.remove(0) {
            Piece::Bytes(b) => Ok(Some(b.as_bytes().to_vec())),
            Piece::Fail => Err(Error::new(ErrorCode::LlmNetwork, "socket hang up")),
            Piece::Stall => future::pending().await,
        }
    }
}

#[derive(Default)]
struct FakeHttp {
    script: RefCell<Vec<Result<Scripted>>>,
    requests: RefCell<Vec<HttpRequest>>,
    /// Called at send time with the store, to check what was durable before the request.
    on_send: RefCell<Option<Box<dyn Fn()>>>,
}

#[async_trait(?Send)]
impl HttpClient for FakeHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        self.requests.borrow_mut().push(request);
        if let Some(hook) = &*self.on_send.borrow() {
            hook();
        }
        let next = {
            let mut s = self.script.borrow_mut();
            if s.is_empty() {
                Ok(ok_stream(&[OPENAI_OK]))
            } else {
                s.remove(0)
            }
        }?;
        Ok(HttpResponse {
            status: next.status,
            headers: next
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Box::new(FakeBody(next.body)),
        })
    }
}

const OPENAI_OK: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n\
data: [DONE]\n\n";
const OPENAI_FIRST: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Part\"}}]}\n\n";
const OPENAI_JSON: &str = r#"{"id":"x","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;

struct World {
    manager: SessionManager,
    http: Rc<FakeHttp>,
    timer: Rc<FakeTimer>,
    settings: AgentSettings,
    events: RefCell<Vec<String>>,
    items: RefCell<Vec<StreamItem>>,
}

fn world() -> World {
    let clock = Rc::new(StepClock(Cell::new(1_700_000_000_000.0)));
    World {
        manager: SessionManager::new(
            Rc::new(MemoryStore::new()),
            clock,
            Rc::new(SeqRandom::new(9)),
            ManagerConfig::default(),
        ),
        http: Rc::new(FakeHttp::default()),
        timer: Rc::new(FakeTimer {
            instant: 10_000,
            log: RefCell::new(vec![]),
            on_sleep: RefCell::new(None),
        }),
        settings: AgentSettings {
            instructions: Some("Be brief.".into()),
            ..AgentSettings::default()
        },
        events: RefCell::new(vec![]),
        items: RefCell::new(vec![]),
    }
}

impl World {
    fn http_model(&self) -> HttpModel {
        HttpModel {
            config: ProviderConfig::new(Provider::OpenAi, "gpt-test"),
            http: self.http.clone(),
            now_ms: Rc::new(|| 0.0),
        }
    }

    async fn turn(
        &self,
        model: &dyn ChatModel,
        session: &str,
        input: &str,
        stream: bool,
        cancel: Option<&dyn CancelSignal>,
    ) -> Result<RunResult> {
        let on_event = |e: &AgentEvent| self.events.borrow_mut().push(e.name().to_owned());
        let on_item = |i: StreamItem| self.items.borrow_mut().push(i);
        Turn {
            manager: &self.manager,
            model,
            timer: &*self.timer,
            settings: &self.settings,
            cancel,
            stream,
            on_event: &on_event,
            on_item: &on_item,
        }
        .run(session, Some(input.to_owned()))
        .await
    }

    async fn session(&self, id: &str) {
        self.manager
            .create(Some(id), CreateOptions::default())
            .await
            .unwrap();
    }

    async fn history(&self, id: &str) -> Vec<(Role, String, MessageStatus)> {
        self.manager
            .history(id, None)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.role, m.content, m.status))
            .collect()
    }
}

fn mock_model(w: &World) -> MockModel {
    MockModel {
        model: "mock-1".into(),
        agent_name: None,
        chunk_delay_ms: 0,
        timer: w.timer.clone(),
    }
}

#[test]
fn the_mock_remembers_within_a_session_and_not_across() {
    let w = world();
    let model = mock_model(&w);
    block_on(async {
        w.session("a").await;
        w.session("b").await;
        w.turn(&model, "a", "My name is Sarah.", false, None)
            .await
            .unwrap();
        let r = w
            .turn(&model, "a", "What is my name?", true, None)
            .await
            .unwrap();
        assert!(r.content.contains("Your name is Sarah."), "{}", r.content);
        let other = w
            .turn(&model, "b", "What is my name?", false, None)
            .await
            .unwrap();
        assert!(
            other.content.contains("I don't have that information."),
            "{}",
            other.content
        );
        assert_eq!(w.history("a").await.len(), 4);
    });
}

#[test]
fn generate_stores_user_then_assistant_and_records_the_run() {
    let w = world();
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_JSON)])));
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "Hello?", false, None).await.unwrap();
        assert_eq!(r.content, "Hi!");
        assert_eq!(r.usage.total_tokens, 4);
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.model.as_deref(), Some("gpt-test"));
        let h = w.manager.history("s", None).await.unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].role, h[1].role), (Role::User, Role::Assistant));
        assert_eq!(h[1].name.as_deref(), Some("assistant"));
        assert_eq!(h[1].run_id.as_deref(), Some(r.run_id.as_str()));
        assert_eq!(h[1].id, r.message_id);
        let runs = w.manager.runs("s").await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].status, runs[0].attempts),
            (RunStatus::Completed, 1)
        );
        assert_eq!(
            w.manager
                .get("s")
                .await
                .unwrap()
                .unwrap()
                .usage
                .total_tokens,
            4
        );
        let body = &w.http.requests.borrow()[0].body;
        assert!(
            body.contains("Be brief.") && body.contains("Hello?"),
            "{body}"
        );
    });
    assert_eq!(
        *w.events.borrow(),
        ["run:start", "llm:chunk", "run:complete"]
    );
}

#[test]
fn the_user_message_is_durable_before_the_request_is_sent() {
    let w = Rc::new(world());
    let seen = Rc::new(Cell::new(0usize));
    let (w2, seen2) = (Rc::downgrade(&w), seen.clone());
    *w.http.on_send.borrow_mut() = Some(Box::new(move || {
        if let Some(w) = w2.upgrade() {
            use futures_util::FutureExt;
            // The memory store answers at once, so the read completes without an executor.
            let history = w.manager.history("s", None).now_or_never();
            seen2.set(history.and_then(|h| h.ok()).map_or(usize::MAX, |h| h.len()));
        }
    }));
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "first", true, None).await.unwrap();
    });
    assert_eq!(seen.get(), 1);
}

#[test]
fn streaming_yields_start_deltas_done_and_stores_complete() {
    let w = world();
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "hi", true, None).await.unwrap();
        assert_eq!(r.content, "Hello there");
        assert_eq!(r.usage.total_tokens, 9);
        let h = w.history("s").await;
        assert_eq!(
            h[1],
            (
                Role::Assistant,
                "Hello there".into(),
                MessageStatus::Complete
            )
        );
        assert_eq!(h.len(), 2, "the placeholder was rewritten, not duplicated");
    });
    let items = w.items.borrow();
    assert!(matches!(items[0], StreamItem::Start { .. }));
    assert_eq!(items[1], StreamItem::Delta("Hello".into()));
    assert_eq!(items[2], StreamItem::Delta(" there".into()));
    assert!(matches!(items.last(), Some(StreamItem::Done(_))));
}

#[test]
fn rate_limits_are_retried_honouring_retry_after_ms() {
    let w = world();
    let model = w.http_model();
    w.http.script.borrow_mut().extend([
        Ok(status(429, vec![("retry-after-ms", "1234")])),
        Ok(status(503, vec![])),
    ]);
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "hi", true, None).await.unwrap();
        assert_eq!(r.content, "Hello there");
    });
    assert_eq!(w.http.requests.borrow().len(), 3);
    assert!(
        w.timer.log.borrow().contains(&1234),
        "{:?}",
        w.timer.log.borrow()
    );
    let runs = block_on(w.manager.runs("s")).unwrap();
    assert_eq!(runs[0].attempts, 3);
    assert_eq!(
        w.events
            .borrow()
            .iter()
            .filter(|e| *e == "llm:retry")
            .count(),
        2
    );
}

#[test]
fn client_errors_are_never_retried() {
    for code in [400u16, 401, 403, 404, 422] {
        let w = world();
        let model = w.http_model();
        w.http.script.borrow_mut().push(Ok(status(code, vec![])));
        block_on(async {
            w.session("s").await;
            let e = w.turn(&model, "s", "hi", false, None).await.unwrap_err();
            assert_eq!((e.code, e.status), (ErrorCode::LlmHttp, Some(code)));
            assert!(e.message.contains("scripted failure"), "{}", e.message);
            assert_eq!(w.history("s").await.len(), 1, "the user message stays");
            let runs = w.manager.runs("s").await.unwrap();
            assert_eq!(runs[0].status, RunStatus::Failed);
            assert_eq!(runs[0].error_code.as_deref(), Some("LLM_HTTP"));
        });
        assert_eq!(w.http.requests.borrow().len(), 1, "{code}");
    }
}

#[test]
fn max_retries_bounds_the_attempts() {
    let mut w = world();
    w.settings.retry.max_retries = 3;
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .extend((0..10).map(|_| Ok(status(500, vec![]))));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", false, None).await.unwrap_err();
        assert_eq!(e.status, Some(500));
    });
    assert_eq!(w.http.requests.borrow().len(), 4);
}

#[test]
fn network_errors_before_any_byte_are_retried() {
    let w = world();
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Err(Error::new(ErrorCode::LlmNetwork, "ECONNRESET")));
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "hi", true, None).await.unwrap();
    });
    assert_eq!(w.http.requests.borrow().len(), 2);
}

#[test]
fn a_cut_stream_is_truncated_not_retried_and_keeps_its_partial_text() {
    let w = world();
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_FIRST), Piece::Fail])));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
        let h = w.history("s").await;
        assert_eq!(h[1], (Role::Assistant, "Part".into(), MessageStatus::Error));
        // The session keeps working.
        let r = w.turn(&model, "s", "again", true, None).await.unwrap();
        assert_eq!(r.content, "Hello there");
        assert_eq!(w.history("s").await.len(), 4);
    });
    assert_eq!(w.http.requests.borrow().len(), 2);
}

#[test]
fn a_stream_without_its_finish_marker_is_truncated() {
    let w = world();
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_stream(&[OPENAI_FIRST])));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
    });
    assert_eq!(w.http.requests.borrow().len(), 1);
}

#[test]
fn a_malformed_chunk_is_a_bad_response() {
    let w = world();
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_stream(&[OPENAI_FIRST, "data: {not json\n\n"])));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
        assert_eq!(w.history("s").await[1].2, MessageStatus::Error);
    });
}

#[test]
fn a_stalled_stream_times_out_on_the_idle_timeout() {
    let mut w = world();
    w.settings.idle_timeout_ms = 50;
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_FIRST), Piece::Stall])));
    // The idle sleep is short enough for the fake timer to end it at once.
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmTimeout);
        assert!(e.message.contains("idleTimeoutMs"));
    });
}

#[test]
fn the_whole_call_deadline_ends_a_slow_call() {
    let mut w = world();
    w.settings.timeout_ms = 100;
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Stall])));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmTimeout);
        assert!(e.message.contains("timeoutMs"));
    });
}

#[test]
fn abort_mid_stream_keeps_the_partial_text_as_interrupted() {
    let w = world();
    let model = w.http_model();
    let token = CancelToken::new();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_FIRST), Piece::Stall])));
    // The stall waits on the idle timer (60 s, never ends here): cancel when it starts.
    let t2 = token.clone();
    *w.timer.on_sleep.borrow_mut() = Some(Box::new(move |ms| {
        if ms == DEFAULT_IDLE_TIMEOUT_MS {
            t2.cancel()
        }
    }));
    block_on(async {
        w.session("s").await;
        let e = w
            .turn(&model, "s", "hi", true, Some(&token))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Aborted);
        let h = w.history("s").await;
        assert_eq!(h.len(), 2);
        assert_eq!(
            h[1],
            (Role::Assistant, "Part".into(), MessageStatus::Interrupted)
        );
        let runs = w.manager.runs("s").await.unwrap();
        assert_eq!(runs[0].status, RunStatus::Aborted);
        *w.timer.on_sleep.borrow_mut() = None;
        w.turn(&model, "s", "next", true, None).await.unwrap();
        assert_eq!(w.history("s").await.len(), 4);
    });
}

#[test]
fn abort_during_a_backoff_wait_ends_the_call_at_once() {
    let w = world();
    let model = w.http_model();
    let token = CancelToken::new();
    w.http
        .script
        .borrow_mut()
        .push(Ok(status(429, vec![("retry-after-ms", "50000")])));
    let t2 = token.clone();
    *w.timer.on_sleep.borrow_mut() = Some(Box::new(move |ms| {
        if ms == 50_000 {
            t2.cancel()
        }
    }));
    block_on(async {
        w.session("s").await;
        let e = w
            .turn(&model, "s", "hi", false, Some(&token))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Aborted);
    });
    assert_eq!(w.http.requests.borrow().len(), 1);
}

#[test]
fn an_already_aborted_signal_stores_nothing() {
    let w = world();
    let model = w.http_model();
    let token = CancelToken::new();
    token.cancel();
    block_on(async {
        w.session("s").await;
        let e = w
            .turn(&model, "s", "hi", false, Some(&token))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Aborted);
        assert!(w.history("s").await.is_empty());
    });
    assert!(w.http.requests.borrow().is_empty());
}

#[test]
fn turns_on_one_session_are_serialised() {
    let w = world();
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        let (a, b) = futures_util::future::join(
            w.turn(&model, "s", "My name is Ann.", false, None),
            w.turn(&model, "s", "What is my name?", false, None),
        )
        .await;
        a.unwrap();
        assert!(b.unwrap().content.contains("Ann"));
        let roles: Vec<Role> = w.history("s").await.into_iter().map(|h| h.0).collect();
        assert_eq!(
            roles,
            [Role::User, Role::Assistant, Role::User, Role::Assistant]
        );
    });
}

#[test]
fn tool_calls_are_returned_and_stored() {
    let w = world();
    let model = w.http_model();
    w.http.script.borrow_mut().push(Ok(ok_stream(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"{\\\"q\\\":\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    ])));
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "look it up", true, None).await.unwrap();
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.tool_calls[0].arguments, "{\"q\":1}");
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        let h = w.manager.history("s", None).await.unwrap();
        assert_eq!(h[1].tool_calls[0].name, "lookup");
        assert_eq!(h[1].status, MessageStatus::Complete);
    });
}

#[test]
fn a_json_reply_cut_off_mid_body_is_retried() {
    let w = world();
    let model = w.http_model();
    w.http.script.borrow_mut().push(Ok(ok_body(vec![
        Piece::Bytes(r#"{"id":"x","choices":[{"index":0,"mess"#),
        Piece::Fail,
    ])));
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_JSON)])));
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "hi", false, None).await.unwrap();
        assert_eq!(r.content, "Hi!");
        assert_eq!(
            w.history("s").await,
            [
                (Role::User, "hi".into(), MessageStatus::Complete),
                (Role::Assistant, "Hi!".into(), MessageStatus::Complete)
            ]
        );
        assert_eq!(w.manager.runs("s").await.unwrap()[0].attempts, 2);
    });
    assert_eq!(w.http.requests.borrow().len(), 2);
    assert!(w.events.borrow().contains(&"llm:retry".to_owned()));
}

#[test]
fn a_json_body_that_fails_before_any_byte_is_retried() {
    let w = world();
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Fail])));
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_JSON)])));
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "hi", false, None).await.unwrap();
        assert_eq!(r.content, "Hi!");
    });
    assert_eq!(w.http.requests.borrow().len(), 2);
}

#[test]
fn a_json_body_that_ends_mid_parse_is_retried_within_max_retries() {
    let w = world();
    let model = w.http_model();
    for body in [r#"{"id":"x","choices":[{"ind"#, r#"{"id":"#, ""] {
        w.http
            .script
            .borrow_mut()
            .push(Ok(ok_body(vec![Piece::Bytes(body)])));
    }
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", false, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
        // Nothing of the failed attempts is stored; the run records them all.
        assert_eq!(w.history("s").await.len(), 1);
        let runs = w.manager.runs("s").await.unwrap();
        assert_eq!((runs[0].status, runs[0].attempts), (RunStatus::Failed, 3));
    });
    assert_eq!(w.http.requests.borrow().len(), 3);
    let retries = w
        .events
        .borrow()
        .iter()
        .filter(|e| *e == "llm:retry")
        .count();
    assert_eq!(retries, 2);
}

#[test]
fn failures_that_would_repeat_are_not_retried() {
    // A 200 page that is not the provider's JSON (a wrong baseUrl), a well-formed body of the
    // wrong shape, a body that is not JSON at all: each would come back the same.
    for body in [
        "<!doctype html><html><body>Welcome</body></html>",
        r#"{"id":"x"}"#,
        "{not json}",
    ] {
        let w = world();
        let model = w.http_model();
        w.http
            .script
            .borrow_mut()
            .push(Ok(ok_body(vec![Piece::Bytes(body)])));
        block_on(async {
            w.session("s").await;
            let e = w.turn(&model, "s", "hi", false, None).await.unwrap_err();
            assert_eq!(e.code, ErrorCode::LlmBadResponse, "{body}");
            assert!(!e.retryable, "{body}");
            assert_eq!(w.manager.runs("s").await.unwrap()[0].attempts, 1);
        });
        assert_eq!(w.http.requests.borrow().len(), 1, "{body}");
        assert!(!w.events.borrow().contains(&"llm:retry".to_owned()));
    }
}

#[test]
fn a_200_html_page_is_not_retried_when_streaming_either() {
    let w = world();
    let model = w.http_model();
    w.http.script.borrow_mut().push(Ok(Scripted {
        status: 200,
        headers: vec![("content-type", "text/html; charset=utf-8")],
        body: vec![Piece::Bytes("<!doctype html><title>Welcome</title>")],
    }));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
        assert!(e.message.contains("HTML page"), "{}", e.message);
        assert!(e.message.contains("Welcome"), "{}", e.message);
    });
    assert_eq!(w.http.requests.borrow().len(), 1);
}

#[test]
fn a_model_whose_reply_fails_the_same_way_every_time_is_called_once() {
    // The shape of a custom `llm.handler` returning something unusable.
    struct WrongShape(Cell<u32>);
    #[async_trait(?Send)]
    impl ChatModel for WrongShape {
        fn provider(&self) -> Provider {
            Provider::Custom
        }
        fn model(&self) -> &str {
            "custom"
        }
        async fn open(&self, _: &ChatRequest<'_>) -> Result<Box<dyn EventSource>> {
            self.0.set(self.0.get() + 1);
            Err(Error::new(
                ErrorCode::LlmBadResponse,
                "llm.handler result: wrong shape",
            ))
        }
    }
    let w = world();
    let model = WrongShape(Cell::new(0));
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
    });
    assert_eq!(model.0.get(), 1);
}

const OPENAI_ROLE: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n";

fn deltas(w: &World) -> Vec<String> {
    w.items
        .borrow()
        .iter()
        .map(|i| match i {
            StreamItem::Start { .. } => "start".to_owned(),
            StreamItem::Delta(t) => t.clone(),
            StreamItem::ToolCall(_) => "tool_call".to_owned(),
            StreamItem::Restart { attempt, reason } => format!("restart {attempt} {reason}"),
            StreamItem::Done(_) => "done".to_owned(),
        })
        .collect()
}

#[test]
fn a_stream_cut_before_its_first_delta_is_retried() {
    for first in [
        // Bytes came, but no text: a cut, a clean end without the finish marker, a bad chunk.
        vec![Piece::Bytes(OPENAI_ROLE), Piece::Fail],
        vec![Piece::Bytes(OPENAI_ROLE)],
        vec![
            Piece::Bytes(OPENAI_ROLE),
            Piece::Bytes("data: {not json\n\n"),
        ],
        vec![Piece::Fail],
    ] {
        let w = world();
        let model = w.http_model();
        w.http.script.borrow_mut().push(Ok(ok_body(first)));
        block_on(async {
            w.session("s").await;
            let r = w.turn(&model, "s", "hi", true, None).await.unwrap();
            assert_eq!(r.content, "Hello there");
            assert_eq!(w.history("s").await.len(), 2);
            assert_eq!(w.manager.runs("s").await.unwrap()[0].attempts, 2);
        });
        assert_eq!(w.http.requests.borrow().len(), 2);
        assert_eq!(deltas(&w), ["start", "Hello", " there", "done"]);
    }
}

#[test]
fn a_stream_stalled_before_its_first_delta_is_retried_once_idle_fires() {
    let mut w = world();
    w.settings.idle_timeout_ms = 50;
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_ROLE), Piece::Stall])));
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "hi", true, None).await.unwrap();
        assert_eq!(r.content, "Hello there");
    });
    assert_eq!(w.http.requests.borrow().len(), 2);
    assert!(w.timer.log.borrow().contains(&50));
}

#[test]
fn stalls_are_retried_only_within_the_whole_call_deadline() {
    let mut w = world();
    // Idle sleeps end at once, the deadline (20 s of the stepping clock) never by itself: the
    // retries must stop on their own once the clock passes it, long before maxRetries.
    w.settings.idle_timeout_ms = 50;
    w.settings.timeout_ms = 20_000;
    w.settings.retry.max_retries = 1_000_000;
    w.settings.retry.base_delay_ms = 1;
    w.settings.retry.max_delay_ms = 1;
    let model = w.http_model();
    for _ in 0..100_000 {
        w.http
            .script
            .borrow_mut()
            .push(Ok(ok_body(vec![Piece::Stall])));
    }
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmTimeout);
        let runs = w.manager.runs("s").await.unwrap();
        assert!(runs[0].attempts > 2, "{}", runs[0].attempts);
        assert!(runs[0].attempts < 100_000, "{}", runs[0].attempts);
    });
}

#[test]
fn after_a_delta_a_cut_stream_restarts_only_with_mid_stream() {
    let faults = [
        vec![Piece::Bytes(OPENAI_FIRST), Piece::Fail],
        vec![Piece::Bytes(OPENAI_FIRST)],
        vec![
            Piece::Bytes(OPENAI_FIRST),
            Piece::Bytes("data: {not json\n\n"),
        ],
        vec![Piece::Bytes(OPENAI_FIRST), Piece::Stall],
    ];
    for fault in faults {
        let mut w = world();
        w.settings.retry.mid_stream = true;
        w.settings.idle_timeout_ms = 50;
        let model = w.http_model();
        w.http.script.borrow_mut().push(Ok(ok_body(fault)));
        block_on(async {
            w.session("s").await;
            let r = w.turn(&model, "s", "hi", true, None).await.unwrap();
            assert_eq!(r.content, "Hello there");
            // One assistant message: the partial "Part" was replaced, not kept beside it.
            let h = w.manager.history("s", None).await.unwrap();
            assert_eq!(h.len(), 2);
            assert_eq!(
                (h[1].content.as_str(), h[1].status),
                ("Hello there", MessageStatus::Complete)
            );
            assert_eq!(h[1].id, r.message_id);
        });
        let items = deltas(&w);
        assert_eq!(items[0..2], ["start", "Part"]);
        assert!(items[2].starts_with("restart 1 LLM_"), "{items:?}");
        assert_eq!(items[3..], ["Hello", " there", "done"]);
    }
}

#[test]
fn mid_stream_restarts_stop_at_max_retries_with_one_stored_reply() {
    let mut w = world();
    w.settings.retry.mid_stream = true;
    let model = w.http_model();
    for _ in 0..3 {
        w.http
            .script
            .borrow_mut()
            .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_FIRST), Piece::Fail])));
    }
    block_on(async {
        w.session("s").await;
        let e = w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
        assert_eq!(
            w.history("s").await[1..],
            [(Role::Assistant, "Part".into(), MessageStatus::Error)]
        );
    });
    assert_eq!(w.http.requests.borrow().len(), 3);
    let restarts = deltas(&w)
        .iter()
        .filter(|i| i.starts_with("restart"))
        .count();
    assert_eq!(restarts, 2);
}

#[test]
fn a_restart_voids_the_stored_partial_text_even_when_the_next_attempt_brings_nothing() {
    let mut w = world();
    w.settings.retry.mid_stream = true;
    w.settings.retry.max_retries = 1;
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_FIRST), Piece::Fail])));
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Fail])));
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "hi", true, None).await.unwrap_err();
        // Attempt 1's "Part" was voided by the restart; nothing of attempt 2 came.
        assert_eq!(
            w.history("s").await[1..],
            [(Role::Assistant, String::new(), MessageStatus::Error)]
        );
    });
}

#[test]
fn an_abort_during_the_backoff_after_a_restart_leaves_no_voided_text() {
    let mut w = world();
    w.settings.retry.mid_stream = true;
    w.settings.retry.base_delay_ms = 5_000;
    w.settings.retry.max_delay_ms = 5_000;
    // This backoff never ends by itself: only the abort ends it.
    w.timer = Rc::new(FakeTimer {
        instant: 1_000,
        log: RefCell::new(vec![]),
        on_sleep: RefCell::new(None),
    });
    let model = w.http_model();
    let token = CancelToken::new();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_FIRST), Piece::Fail])));
    // Abort during the backoff (3.75–5 s with this policy; the idle timer is 60 s).
    let reached = Rc::new(Cell::new(false));
    let (t2, r2) = (token.clone(), reached.clone());
    *w.timer.on_sleep.borrow_mut() = Some(Box::new(move |ms| {
        if (3_750..=5_000).contains(&ms) {
            r2.set(true);
            t2.cancel()
        }
    }));
    block_on(async {
        w.session("s").await;
        let e = w
            .turn(&model, "s", "hi", true, Some(&token))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Aborted);
        assert!(reached.get(), "the backoff was reached");
        assert_eq!(
            w.history("s").await[1..],
            [(Role::Assistant, String::new(), MessageStatus::Interrupted)]
        );
        // Nothing to continue: the voided text is gone.
        let e = w.resume(&model, "s", true).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    });
    assert_eq!(w.http.requests.borrow().len(), 1);
    assert_eq!(
        deltas(&w)[..3],
        ["start", "Part", "restart 1 LLM_STREAM_TRUNCATED"]
    );
}

#[test]
fn generate_never_restarts_and_never_yields_a_restart() {
    let mut w = world();
    w.settings.retry.mid_stream = true;
    let model = w.http_model();
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes("{\"id\":"), Piece::Fail])));
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Bytes(OPENAI_JSON)])));
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "hi", false, None).await.unwrap();
    });
    assert!(!deltas(&w).iter().any(|i| i.starts_with("restart")));
}

impl World {
    fn model_of(&self, provider: Provider) -> HttpModel {
        HttpModel {
            config: ProviderConfig::new(provider, "m-test"),
            http: self.http.clone(),
            now_ms: Rc::new(|| 0.0),
        }
    }

    async fn resume(
        &self,
        model: &dyn ChatModel,
        session: &str,
        stream: bool,
    ) -> Result<RunResult> {
        let on_event = |e: &AgentEvent| self.events.borrow_mut().push(e.name().to_owned());
        let on_item = |i: StreamItem| self.items.borrow_mut().push(i);
        Turn {
            manager: &self.manager,
            model,
            timer: &*self.timer,
            settings: &self.settings,
            cancel: None,
            stream,
            on_event: &on_event,
            on_item: &on_item,
        }
        .resume(session)
        .await
    }

    /// A turn aborted after its first delta, "Part" stored as interrupted.
    async fn interrupted(&self, model: &dyn ChatModel, first: &'static str) {
        let token = CancelToken::new();
        self.http
            .script
            .borrow_mut()
            .push(Ok(ok_body(vec![Piece::Bytes(first), Piece::Stall])));
        let t2 = token.clone();
        *self.timer.on_sleep.borrow_mut() = Some(Box::new(move |ms| {
            if ms == DEFAULT_IDLE_TIMEOUT_MS {
                t2.cancel()
            }
        }));
        self.session("s").await;
        let e = self
            .turn(model, "s", "hi", true, Some(&token))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Aborted);
        *self.timer.on_sleep.borrow_mut() = None;
    }
}

fn request_body(w: &World, i: usize) -> serde_json::Value {
    serde_json::from_str(&w.http.requests.borrow()[i].body).unwrap()
}

#[test]
fn continue_completes_the_same_interrupted_message_after_an_instruction() {
    let w = world();
    let model = w.http_model();
    block_on(async {
        w.interrupted(&model, OPENAI_FIRST).await;
        let before = w.manager.history("s", None).await.unwrap();
        assert_eq!(before[1].status, MessageStatus::Interrupted);
        w.items.borrow_mut().clear();
        let r = w.resume(&model, "s", true).await.unwrap();
        assert_eq!(r.content, "PartHello there");
        assert_eq!(r.message_id, before[1].id);
        let h = w.manager.history("s", None).await.unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[1].id.as_str(), h[1].content.as_str(), h[1].status),
            (
                before[1].id.as_str(),
                "PartHello there",
                MessageStatus::Complete
            )
        );
        let runs = w.manager.runs("s").await.unwrap();
        assert_eq!(runs.len(), 2);
    });
    // The deltas are the new text only.
    assert_eq!(deltas(&w), ["start", "Hello", " there", "done"]);
    let body = request_body(&w, 1);
    let msgs = body["messages"].as_array().unwrap();
    let n = msgs.len();
    assert_eq!(msgs[n - 2]["role"], "assistant");
    assert_eq!(msgs[n - 2]["content"], "Part");
    assert_eq!(msgs[n - 1]["role"], "user");
    assert_eq!(msgs[n - 1]["content"], CONTINUE_INSTRUCTION);
}

const ANTHROPIC_PART: &str = concat!(
    "event: message_start\n",
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-test\",\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\n",
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\n",
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The answer is \"}}\n\n",
);
const ANTHROPIC_REST: &str = concat!(
    "event: content_block_delta\n",
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" 42.\"}}\n\n",
    "event: content_block_stop\n",
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\n",
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n",
    "event: message_stop\n",
    "data: {\"type\":\"message_stop\"}\n\n",
);

#[test]
fn continue_on_anthropic_sends_the_partial_reply_as_a_prefill() {
    let w = world();
    let model = w.model_of(Provider::Anthropic);
    block_on(async {
        w.interrupted(&model, ANTHROPIC_PART).await;
        assert_eq!(
            w.history("s").await[1],
            (
                Role::Assistant,
                "The answer is ".into(),
                MessageStatus::Interrupted
            )
        );
        w.http.script.borrow_mut().push(Ok(ok_stream(&[
            ANTHROPIC_PART
                .split("event: content_block_delta")
                .next()
                .unwrap(),
            ANTHROPIC_REST,
        ])));
        let r = w.resume(&model, "s", true).await.unwrap();
        assert_eq!(r.content, "The answer is 42.");
        assert_eq!(
            w.history("s").await,
            [
                (Role::User, "hi".into(), MessageStatus::Complete),
                (
                    Role::Assistant,
                    "The answer is 42.".into(),
                    MessageStatus::Complete
                )
            ]
        );
    });
    let body = request_body(&w, 1);
    let msgs = body["messages"].as_array().unwrap();
    let last = msgs.last().unwrap();
    assert_eq!(last["role"], "assistant");
    assert_eq!(last["content"][0]["text"], "The answer is");
    assert!(
        !body.to_string().contains("cut off"),
        "no instruction with a prefill"
    );
}

#[test]
fn a_restart_inside_a_continue_keeps_the_text_it_continues_from() {
    let mut w = world();
    let model = w.http_model();
    block_on(async {
        w.interrupted(&model, OPENAI_FIRST).await;
    });
    w.settings.retry.mid_stream = true;
    w.settings.retry.max_retries = 1;
    // The continue's first attempt yields " more" and is cut; the second fails before text.
    w.http.script.borrow_mut().push(Ok(ok_body(vec![
        Piece::Bytes("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" more\"}}]}\n\n"),
        Piece::Fail,
    ])));
    w.http
        .script
        .borrow_mut()
        .push(Ok(ok_body(vec![Piece::Fail])));
    block_on(async {
        w.resume(&model, "s", true).await.unwrap_err();
        // The voided " more" is gone; the reply it continues from is not.
        assert_eq!(
            w.history("s").await[1..],
            [(Role::Assistant, "Part".into(), MessageStatus::Interrupted)]
        );
        // And it can be continued again, from the same text.
        let r = w.resume(&model, "s", true).await.unwrap();
        assert_eq!(r.content, "PartHello there");
    });
}

#[test]
fn continue_needs_an_interrupted_reply_with_text() {
    let w = world();
    let model = w.http_model();
    block_on(async {
        w.session("s").await;
        let e = w.resume(&model, "s", true).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        w.turn(&model, "s", "hi", true, None).await.unwrap();
        let e = w.resume(&model, "s", true).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("nothing to continue"), "{}", e.message);
        assert!(w.manager.runs("s").await.unwrap().len() == 1);
    });
}

#[test]
fn a_failed_continue_leaves_the_reply_interrupted_for_another_try() {
    let mut w = world();
    w.settings.retry.max_retries = 0;
    let model = w.http_model();
    block_on(async {
        w.interrupted(&model, OPENAI_FIRST).await;
        w.http.script.borrow_mut().push(Ok(status(500, vec![])));
        let e = w.resume(&model, "s", true).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmHttp);
        assert_eq!(
            w.history("s").await[1],
            (Role::Assistant, "Part".into(), MessageStatus::Interrupted)
        );
        let r = w.resume(&model, "s", true).await.unwrap();
        assert_eq!(r.content, "PartHello there");
        assert_eq!(w.history("s").await.len(), 2);
    });
}

#[test]
fn an_empty_complete_reply_is_still_stored_as_the_turn() {
    let w = world();
    let model = w.http_model();
    w.http.script.borrow_mut().push(Ok(ok_body(vec![Piece::Bytes(
            r#"{"choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}"#,
        )])));
    block_on(async {
        w.session("s").await;
        let r = w.turn(&model, "s", "hi", false, None).await.unwrap();
        assert_eq!(r.content, "");
        let h = w.manager.history("s", None).await.unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[1].role, h[1].status),
            (Role::Assistant, MessageStatus::Complete)
        );
        assert_eq!(h[1].id, r.message_id);
    });
}

#[path = "context_tests.rs"]
mod context;

#[test]
fn the_mock_provider_continues_a_cut_reply_with_the_rest_of_it() {
    let w = world();
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        w.turn(&model, "s", "My name is Ann.", false, None)
            .await
            .unwrap();
        // What a tab closed mid-stream leaves: the user turn and the start of the answer.
        for (role, content, status) in [
            ("user", "What is my name?", MessageStatus::Complete),
            ("assistant", "Your name", MessageStatus::Interrupted),
        ] {
            let m = NewMessage {
                role: role.into(),
                content: Some(serde_json::Value::String(content.into())),
                status: Some(status),
                ..NewMessage::default()
            };
            w.manager.add_message("s", m).await.unwrap();
        }
        w.items.borrow_mut().clear();
        let r = w.resume(&model, "s", true).await.unwrap();
        assert_eq!(r.content, "Your name is Ann.");
        let items = deltas(&w);
        assert_eq!(items[1..items.len() - 1].concat(), " is Ann.");
        assert_eq!(w.history("s").await.len(), 4);
    });
}

#[test]
fn stream_items_write_the_json_to_json_builds() {
    let result = RunResult {
        content: "a\"b".into(),
        session_id: "s".into(),
        message_id: "m".into(),
        run_id: "r".into(),
        usage: Usage::default(),
        finish_reason: Some("stop".into()),
        model: None,
        tool_calls: vec![],
    };
    let texts = [
        "",
        "plain",
        "quote \" backslash \\ slash / nl \n cr \r tab \t",
        "controls \u{0} \u{1} \u{1f} \u{7f} del",
        "unicode é 🙂 \u{2028} \u{2029} end",
        "\"",
        "\\",
    ];
    let mut items: Vec<StreamItem> = texts
        .iter()
        .map(|t| StreamItem::Delta((*t).into()))
        .collect();
    items.push(StreamItem::Start {
        run_id: "run_\n1".into(),
    });
    items.push(StreamItem::ToolCall(ToolCall {
        id: "c".into(),
        name: "n".into(),
        arguments: "{\"x\":1}".into(),
    }));
    items.push(StreamItem::Restart {
        attempt: 1,
        reason: "LLM_NETWORK".into(),
    });
    items.push(StreamItem::Done(result));
    for item in items {
        let mut out = String::new();
        item.write_json(&mut out);
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed, item.to_json(), "{out}");
    }
}

#[test]
fn regenerate_answers_on_the_active_branch_and_keeps_the_old_answer() {
    let w = world();
    let model = mock_model(&w);
    block_on(async {
        w.session("s").await;
        let first = w
            .turn(&model, "s", "My name is Sarah.", false, None)
            .await
            .unwrap();
        let h = w.manager.history("s", None).await.unwrap();
        // Edit the question into another branch, then answer it there.
        let edited = w
            .manager
            .edit_message(
                "s",
                &h[0].id,
                crate::core::manager::EditOptions {
                    content: Some(serde_json::json!("My name is Tom.")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let on_event = |_: &AgentEvent| {};
        let on_item = |_: StreamItem| {};
        let turn = Turn {
            manager: &w.manager,
            model: &model,
            timer: &*w.timer,
            settings: &w.settings,
            cancel: None,
            stream: true,
            on_event: &on_event,
            on_item: &on_item,
        };
        let again = turn.regenerate("s", None).await.unwrap();
        let h = w.manager.history("s", None).await.unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].id, edited.id);
        assert_eq!(h[1].id, again.message_id);
        let r = w
            .turn(&model, "s", "What is my name?", false, None)
            .await
            .unwrap();
        assert!(r.content.contains("Tom"), "{}", r.content);
        // A second answer to the same question: a sibling of the first.
        let third = turn.regenerate("s", None).await.unwrap();
        let siblings = w.manager.branches("s", &third.message_id).await.unwrap();
        assert_eq!(siblings.len(), 2);
        // Back on the first branch the model sees only that branch.
        w.manager
            .switch_branch("s", &first.message_id)
            .await
            .unwrap();
        let r = w
            .turn(&model, "s", "What is my name?", false, None)
            .await
            .unwrap();
        assert!(r.content.contains("Sarah"), "{}", r.content);
        // Nothing to answer in an empty session.
        w.session("empty").await;
        let e = turn.regenerate("empty", None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    });
}
