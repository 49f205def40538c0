//! The platform layer's timer, abort signal and fetch transport in Node:
//! `wasm-pack test --node --test platform_node`.
#![cfg(target_arch = "wasm32")]

use agent_sessions::core::error::ErrorCode;
use agent_sessions::core::io::{CancelSignal, HttpClient, HttpResponse, Timer};
use agent_sessions::core::llm::HttpRequest;
use agent_sessions::platform::abort::{self, JsAbortSignal};
use agent_sessions::platform::fetch::FetchClient;
use agent_sessions::platform::timer::JsTimer;
use futures_util::future::{select, Either, FutureExt};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn global() -> JsValue {
    js_sys::global().into()
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).expect("Reflect.get")
}

fn js_fn(args: &str, body: &str) -> Function {
    Function::new_with_args(args, body)
}

/// Node's count of pending `setTimeout`s (`process.getActiveResourcesInfo()`).
fn active_timeouts() -> usize {
    js_fn(
        "",
        "return process.getActiveResourcesInfo().filter(r => r === 'Timeout').length",
    )
    .call0(&JsValue::UNDEFINED)
    .expect("getActiveResourcesInfo")
    .as_f64()
    .expect("a number") as usize
}

fn new_abort_controller() -> JsValue {
    let ctor = get(&global(), "AbortController");
    Reflect::construct(ctor.unchecked_ref::<Function>(), &Array::new())
        .expect("new AbortController")
}

fn request(url: &str) -> HttpRequest {
    HttpRequest {
        method: "POST",
        url: url.to_owned(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Test".into(), "yes".into()),
        ],
        body: "{\"q\":1}".into(),
    }
}

async fn read_all(response: &mut HttpResponse) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = response.body.next_chunk().await.expect("body chunk") {
        out.extend(chunk);
    }
    out
}

fn last_signal_aborted() -> bool {
    get(&get(&global(), "__lastSignal"), "aborted").is_truthy()
}

// ---------------------------------------------------------------- timer

#[wasm_bindgen_test]
async fn timer_fires_after_the_delay() {
    let start = js_sys::Date::now();
    JsTimer.sleep(30).await;
    let elapsed = js_sys::Date::now() - start;
    assert!(elapsed >= 25.0, "slept only {elapsed} ms");
}

#[wasm_bindgen_test]
async fn timer_zero_still_resolves() {
    JsTimer.sleep(0).await;
}

#[wasm_bindgen_test]
async fn dropped_timer_is_cleared_and_never_fires() {
    let before = active_timeouts();
    let long = JsTimer.sleep(60_000);
    assert_eq!(active_timeouts(), before + 1, "the sleep arms a timeout");
    drop(long);
    assert_eq!(active_timeouts(), before, "dropping the sleep clears it");

    // A short one dropped while pending: had it fired, its freed callback would throw.
    let mut short = JsTimer.sleep(5);
    assert!((&mut short).now_or_never().is_none());
    drop(short);
    JsTimer.sleep(40).await;
    assert_eq!(active_timeouts(), before);
}

#[wasm_bindgen_test]
async fn timer_race_drops_the_loser() {
    let before = active_timeouts();
    match select(JsTimer.sleep(10), JsTimer.sleep(60_000)).await {
        Either::Left(((), long)) => drop(long),
        Either::Right(_) => panic!("the 60 s timer won"),
    }
    assert_eq!(active_timeouts(), before);
}

// ---------------------------------------------------------------- abort signal

#[wasm_bindgen_test]
async fn abort_signal_resolves_after_abort() {
    let controller = new_abort_controller();
    let signal = abort::from_js(&get(&controller, "signal"))
        .expect("valid")
        .expect("some");
    assert!(!signal.is_cancelled());
    js_fn("c", "setTimeout(() => c.abort(), 10)")
        .call1(&JsValue::UNDEFINED, &controller)
        .unwrap();
    match select(signal.cancelled(), JsTimer.sleep(2_000)).await {
        Either::Left(_) => {}
        Either::Right(_) => panic!("cancelled() did not resolve after abort()"),
    }
    assert!(signal.is_cancelled());
    // Already aborted: resolves at once.
    assert!(signal.cancelled().now_or_never().is_some());
}

#[wasm_bindgen_test]
fn dropped_cancelled_future_removes_its_listener() {
    // A duck-typed signal that records its listeners.
    let fake = js_fn(
        "",
        "const s = { aborted: false, listeners: new Set(), \
           addEventListener(t, f, o) { if (t === 'abort' && o && o.once) this.listeners.add(f); }, \
           removeEventListener(t, f) { this.listeners.delete(f); } }; return s;",
    )
    .call0(&JsValue::UNDEFINED)
    .unwrap();
    let signal = JsAbortSignal::from_js(&fake).unwrap().unwrap();
    let size = || get(&get(&fake, "listeners"), "size").as_f64().unwrap();
    let mut fut = signal.cancelled();
    assert_eq!(size(), 1.0);
    assert!((&mut fut).now_or_never().is_none());
    drop(fut);
    assert_eq!(size(), 0.0);
}

#[wasm_bindgen_test]
fn from_js_accepts_absent_and_refuses_non_signals() {
    assert!(abort::from_js(&JsValue::UNDEFINED).unwrap().is_none());
    assert!(abort::from_js(&JsValue::NULL).unwrap().is_none());
    let not_signals = [
        JsValue::from_f64(1.0),
        JsValue::from_str("abort"),
        JsValue::TRUE,
        js_sys::Object::new().into(),
        js_fn("", "return { aborted: 'no', addEventListener() {} }")
            .call0(&JsValue::UNDEFINED)
            .unwrap(),
        js_fn("", "return { aborted: false }")
            .call0(&JsValue::UNDEFINED)
            .unwrap(),
        new_abort_controller(),
    ];
    for value in not_signals {
        let err = abort::from_js(&value).expect_err("refused");
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(err.message, "signal must be an AbortSignal");
    }
}

// ---------------------------------------------------------------- fetch

#[wasm_bindgen_test]
async fn custom_fetch_gives_status_headers_and_body() {
    let fetch = js_fn(
        "url, init",
        "globalThis.__lastSignal = init.signal; \
         const echo = [init.method, url, init.headers['content-type'], init.headers['x-test'], \
                       init.body, init.signal instanceof AbortSignal].join('|'); \
         return Promise.resolve(new Response('hello ' + echo, { status: 201, \
           headers: { 'retry-after': '2', 'x-request-id': 'req_1', 'x-other': 'no' } }))",
    );
    let client = FetchClient::new(Some(fetch));
    let mut response = match client.send(request("https://example.test/v1/chat")).await {
        Ok(r) => r,
        Err(e) => panic!("send failed: {e:?}"),
    };
    assert_eq!(response.status, 201);
    assert_eq!(response.header("retry-after"), Some("2"));
    assert_eq!(response.header("x-request-id"), Some("req_1"));
    assert_eq!(response.header("x-other"), None);
    // content-type is kept too (an HTML page where JSON was expected fails at once): a string
    // body's is text/plain.
    assert!(response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain")));
    assert_eq!(response.headers.len(), 3);
    let body = read_all(&mut response).await;
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "hello POST|https://example.test/v1/chat|application/json|yes|{\"q\":1}|true"
    );
    // Read to the end: the request was not aborted, and reading on is harmless.
    assert!(response.body.next_chunk().await.unwrap().is_none());
    drop(response);
    assert!(!last_signal_aborted());
}

#[wasm_bindgen_test]
async fn custom_fetch_may_return_a_response_directly_and_stream_chunks() {
    let fetch = js_fn(
        "url, init",
        "const enc = new TextEncoder(); \
         const body = new ReadableStream({ start(c) { \
           c.enqueue(enc.encode('data: a\\n\\n')); c.enqueue(new Uint8Array(0)); \
           c.enqueue(enc.encode('data: b\\n\\n')); c.close(); } }); \
         return new Response(body, { status: 200 });",
    );
    let client = FetchClient::new(Some(fetch));
    let mut response = client.send(request("https://x.test/")).await.ok().unwrap();
    assert_eq!(response.status, 200);
    assert!(response.headers.is_empty());
    assert_eq!(
        response.body.next_chunk().await.unwrap().unwrap(),
        b"data: a\n\n"
    );
    assert_eq!(
        response.body.next_chunk().await.unwrap().unwrap(),
        b"data: b\n\n"
    );
    assert!(response.body.next_chunk().await.unwrap().is_none());
}

#[wasm_bindgen_test]
async fn rejecting_fetch_is_a_retryable_network_error() {
    let fetch = js_fn("url, init", "return Promise.reject(new TypeError('boom'))");
    let client = FetchClient::new(Some(fetch));
    let err = client.send(request("https://x.test/")).await.err().unwrap();
    assert_eq!(err.code, ErrorCode::LlmNetwork);
    assert!(err.retryable);
    assert!(err.message.contains("boom"), "{}", err.message);

    let throwing = js_fn("url, init", "throw new Error('sync boom')");
    let err = FetchClient::new(Some(throwing))
        .send(request("https://x.test/"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::LlmNetwork);
    assert!(err.message.contains("sync boom"), "{}", err.message);

    let not_a_response = js_fn("url, init", "return Promise.resolve(42)");
    let err = FetchClient::new(Some(not_a_response))
        .send(request("https://x.test/"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::LlmBadResponse);
}

#[wasm_bindgen_test]
async fn body_stream_error_is_a_network_error() {
    let fetch = js_fn(
        "url, init",
        "const body = new ReadableStream({ pull(c) { c.error(new Error('reset by peer')); } }); \
         return new Response(body);",
    );
    let mut response = FetchClient::new(Some(fetch))
        .send(request("https://x.test/"))
        .await
        .ok()
        .unwrap();
    let err = response.body.next_chunk().await.err().unwrap();
    assert_eq!(err.code, ErrorCode::LlmNetwork);
    assert!(err.message.contains("reset by peer"), "{}", err.message);
    // It stays failed.
    assert!(response.body.next_chunk().await.is_err());
}

#[wasm_bindgen_test]
async fn dropping_an_unread_body_aborts_the_request() {
    let fetch = js_fn(
        "url, init",
        "globalThis.__lastSignal = init.signal; \
         const body = new ReadableStream({ pull(c) { c.enqueue(new Uint8Array([1, 2, 3])); } }); \
         return Promise.resolve(new Response(body));",
    );
    let client = FetchClient::new(Some(fetch));
    let mut response = client.send(request("https://x.test/")).await.ok().unwrap();
    assert_eq!(
        response.body.next_chunk().await.unwrap().unwrap(),
        vec![1, 2, 3]
    );
    assert!(!last_signal_aborted());
    drop(response);
    assert!(last_signal_aborted());
    // The reader's cancel() rejection (if any) must not surface as an unhandled rejection.
    JsTimer.sleep(10).await;
}

#[wasm_bindgen_test]
async fn dropping_the_pending_send_aborts_the_request() {
    let fetch = js_fn(
        "url, init",
        "globalThis.__lastSignal = init.signal; \
         return new Promise((resolve, reject) => \
           init.signal.addEventListener('abort', () => reject(init.signal.reason)));",
    );
    let client = FetchClient::new(Some(fetch));
    match select(client.send(request("https://x.test/")), JsTimer.sleep(10)).await {
        Either::Left(_) => panic!("a fetch that never resolves resolved"),
        Either::Right(((), pending)) => {
            assert!(!last_signal_aborted());
            drop(pending);
        }
    }
    assert!(last_signal_aborted());
    JsTimer.sleep(10).await;
}

#[wasm_bindgen_test]
async fn null_body_and_hand_made_responses() {
    let fetch = js_fn("url, init", "return new Response(null, { status: 204 })");
    let mut response = FetchClient::new(Some(fetch))
        .send(request("https://x.test/"))
        .await
        .ok()
        .unwrap();
    assert_eq!(response.status, 204);
    assert!(response.body.next_chunk().await.unwrap().is_none());

    // Not a Response at all: status, a plain headers object, arrayBuffer().
    let fetch = js_fn(
        "url, init",
        "return { status: 429, headers: { 'retry-after-ms': '1500' }, body: null, \
                  arrayBuffer: async () => new TextEncoder().encode('slow down').buffer };",
    );
    let mut response = FetchClient::new(Some(fetch))
        .send(request("https://x.test/"))
        .await
        .ok()
        .unwrap();
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after-ms"), Some("1500"));
    assert_eq!(read_all(&mut response).await, b"slow down");
}

#[wasm_bindgen_test]
async fn global_fetch_reads_a_data_url() {
    let client = FetchClient::new(None);
    let req = HttpRequest {
        method: "GET",
        url: "data:text/plain,hello%20world".into(),
        headers: vec![],
        body: String::new(),
    };
    let mut response = client.send(req).await.ok().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(read_all(&mut response).await, b"hello world");
}

#[wasm_bindgen_test]
async fn global_fetch_connection_refused_is_a_network_error() {
    let err = FetchClient::new(None)
        .send(request("http://127.0.0.1:1/v1/chat/completions"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::LlmNetwork);
    assert!(err.retryable);
    assert!(err.message.contains("fetch failed"), "{}", err.message);
}

#[wasm_bindgen_test]
fn missing_global_fetch_is_a_network_error() {
    let g = global();
    let saved = get(&g, "fetch");
    Reflect::delete_property(
        g.unchecked_ref::<js_sys::Object>(),
        &JsValue::from_str("fetch"),
    )
    .unwrap();
    let result = FetchClient::new(None)
        .send(request("https://x.test/"))
        .now_or_never();
    Reflect::set(&g, &JsValue::from_str("fetch"), &saved).unwrap();
    let err = match result {
        Some(Err(e)) => e,
        Some(Ok(_)) => panic!("sent without a fetch"),
        None => panic!("did not fail at once"),
    };
    assert_eq!(err.code, ErrorCode::LlmNetwork);
    assert!(err.message.contains("no fetch"), "{}", err.message);
}

// ---------------------------------------------------------------- real HTTP (Node's undici)

/// Starts a `node:http` server on a free port (`process.getBuiltinModule`, Node >= 20.16);
/// `None` on an older Node.
async fn start_server() -> Option<JsValue> {
    let start = js_fn(
        "",
        "if (typeof process.getBuiltinModule !== 'function') return null; \
         const http = process.getBuiltinModule('node:http'); \
         const state = { streamClosedEarly: false, streamRequests: 0 }; \
         const server = http.createServer((req, res) => { \
           let body = ''; req.on('data', d => body += d); req.on('end', () => { \
             if (req.url === '/echo') { \
               res.writeHead(503, { 'retry-after-ms': '1500', 'x-request-id': 'abc', 'x-other': 'no' }); \
               res.end(JSON.stringify({ method: req.method, ct: req.headers['content-type'], \
                                        test: req.headers['x-test'], body })); \
             } else if (req.url === '/stream') { \
               state.streamRequests++; \
               res.writeHead(200, { 'content-type': 'text/event-stream' }); \
               res.write('data: one\\n\\n'); \
               res.on('close', () => { if (!res.writableFinished) state.streamClosedEarly = true; }); \
             } else { res.writeHead(404); res.end(); } }); }); \
         return new Promise(resolve => server.listen(0, '127.0.0.1', () => \
           resolve({ server, state, port: server.address().port })));",
    );
    let started = start.call0(&JsValue::UNDEFINED).unwrap();
    if started.is_null() {
        return None;
    }
    let promise: js_sys::Promise = started.unchecked_into();
    Some(wasm_bindgen_futures::JsFuture::from(promise).await.unwrap())
}

fn stop_server(server: &JsValue) {
    js_fn("s", "s.server.closeAllConnections(); s.server.close();")
        .call1(&JsValue::UNDEFINED, server)
        .unwrap();
}

#[wasm_bindgen_test]
async fn global_fetch_against_a_real_server() {
    let Some(server) = start_server().await else {
        return; // Node < 20.16: no getBuiltinModule
    };
    let port = get(&server, "port").as_f64().unwrap();
    let state = get(&server, "state");
    let client = FetchClient::new(None);

    let mut response = client
        .send(request(&format!("http://127.0.0.1:{port}/echo")))
        .await
        .ok()
        .unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.header("retry-after-ms"), Some("1500"));
    assert_eq!(response.header("x-request-id"), Some("abc"));
    assert_eq!(response.headers.len(), 2);
    assert_eq!(
        String::from_utf8(read_all(&mut response).await).unwrap(),
        r#"{"method":"POST","ct":"application/json","test":"yes","body":"{\"q\":1}"}"#
    );

    // A stream that never ends, dropped after its first chunk: the server sees the abort.
    let mut response = client
        .send(request(&format!("http://127.0.0.1:{port}/stream")))
        .await
        .ok()
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body.next_chunk().await.unwrap().unwrap(),
        b"data: one\n\n"
    );
    drop(response);
    for _ in 0..1000 {
        if get(&state, "streamClosedEarly").is_truthy() {
            break;
        }
        JsTimer.sleep(10).await;
    }
    assert!(get(&state, "streamClosedEarly").is_truthy());
    assert_eq!(get(&state, "streamRequests").as_f64(), Some(1.0));
    stop_server(&server);
}

/// Encryption at rest with the real WebCrypto: AES-GCM under a PBKDF2 key, salt kept in the store.
mod encryption {
    use std::rc::Rc;

    use agent_sessions::core::error::ErrorCode;
    use agent_sessions::core::model::{Message, MessageStatus, Role, Session};
    use agent_sessions::core::store::{MemoryStore, MessageQuery, Store};
    use agent_sessions::platform::crypto::{sealed_store, KeySource};
    use wasm_bindgen_test::*;

    fn pass(p: &str) -> KeySource {
        KeySource::Passphrase {
            passphrase: p.into(),
            iterations: 1000,
        }
    }

    #[wasm_bindgen_test]
    async fn records_are_sealed_and_only_the_right_passphrase_opens_them() {
        let raw = Rc::new(MemoryStore::new());
        let store = sealed_store(raw.clone(), pass("correct horse"))
            .await
            .unwrap();
        let mut s = Session::new("s1".into(), 1.0);
        s.title = Some("Plans for the heist".into());
        let m = Message {
            id: "m1".into(),
            session_id: "s1".into(),
            seq: 0,
            parent: Default::default(),
            role: Role::User,
            content: "The vault code is 0451".into(),
            name: None,
            tool_calls: vec![],
            tool_call_id: None,
            status: MessageStatus::Complete,
            created_at: 1.0,
            tokens: 6,
            run_id: None,
            metadata: None,
            payload: Some(serde_json::json!({ "text": "The vault code is 0451" })),
        };
        store.put_message(&s, &m).await.unwrap();
        let dump = format!(
            "{:?}{:?}",
            raw.list_sessions().await.unwrap(),
            raw.get_messages("s1", MessageQuery::all()).await.unwrap()
        );
        assert!(!dump.contains("vault") && !dump.contains("heist"), "{dump}");
        assert!(raw.get_meta("enc.salt").await.unwrap().is_some());

        // Reopened with the same passphrase (the stored salt is reused): everything reads back.
        let again = sealed_store(raw.clone(), pass("correct horse"))
            .await
            .unwrap();
        assert_eq!(
            again.get_messages("s1", MessageQuery::all()).await.unwrap(),
            [m]
        );
        assert_eq!(again.get_session("s1").await.unwrap().unwrap(), s);

        let wrong = sealed_store(raw.clone(), pass("wrong horse"))
            .await
            .err()
            .unwrap();
        assert_eq!(wrong.code, ErrorCode::WrongKey);
    }
}

/// Ids come from a pool of `crypto.getRandomValues` bytes: across many refills every 12-byte
/// draw is new, large draws bypass the pool, and the bytes are not a constant.
#[wasm_bindgen_test]
fn pooled_random_bytes_are_never_handed_out_twice() {
    use agent_sessions::core::io::RandomSource;
    use agent_sessions::platform::random::CryptoRandom;
    let random = CryptoRandom::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        let mut id = [0u8; 12];
        random.fill(&mut id);
        assert!(seen.insert(id), "a 12-byte draw repeated");
    }
    let (mut a, mut b) = ([0u8; 4096], [0u8; 4096]);
    random.fill(&mut a);
    random.fill(&mut b);
    assert_ne!(a, b);
    assert!(a.iter().any(|&x| x != a[0]), "not a constant");
    let x = random.next_f64();
    assert!((0.0..1.0).contains(&x));
}
