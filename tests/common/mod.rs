//! The bindings suite, shared by `tests/web.rs` (headless browsers) and `tests/node.rs` (Node).
//! It drives the exported classes through their JavaScript surface — method lookup, Promises,
//! thrown errors — exactly as a JavaScript caller would.

#![allow(dead_code)]

/// Declares every test of this suite as a `#[wasm_bindgen_test]` in the including test crate, so
/// `tests/web.rs` and `tests/node.rs` always run the same list.
macro_rules! bindings_suite {
    () => {
        bindings_suite!(@async
            store_lifecycle,
            bad_input_gives_typed_errors_and_loses_nothing,
            prototype_keys_are_refused_and_nothing_is_polluted,
            query_sessions_pages_newest_first,
            agkit_memory_add_and_list_by_session,
            events_fire_and_unsubscribe,
            runs_are_tracked,
            agent_manages_sessions_like_dexto,
            agents_share_a_store,
        );

        #[wasm_bindgen_test]
        fn bad_agent_config_is_refused_synchronously() {
            common::bad_agent_config_is_refused_synchronously()
        }
    };
    (@async $($name:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            common::$name().await
        }
    )*};
}

use agent_sessions::bindings::agent::Agent;
use agent_sessions::bindings::store::SessionStore;
use js_sys::{Array, Function, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON parses")
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).expect("property read")
}

pub fn str_of(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

pub fn num_of(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

/// Calls `obj[method](...args)`; awaits the result when it is a Promise.
pub async fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(obj, method)
        .dyn_into()
        .unwrap_or_else(|_| panic!("{method} is not a function"));
    let out = f.apply(obj, &args.iter().collect::<Array>())?;
    match out.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p).await,
        Err(v) => Ok(v),
    }
}

pub async fn ok(obj: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    match call(obj, method, args).await {
        Ok(v) => v,
        Err(e) => panic!(
            "{method} failed: {:?}",
            JSON::stringify(&e).ok().map(String::from)
        ),
    }
}

/// Expects a rejection with an `AgentSessionsError` of `code`; returns the error.
pub async fn fails(obj: &JsValue, method: &str, args: &[JsValue], code: &str) -> JsValue {
    let err = call(obj, method, args)
        .await
        .expect_err(&format!("{method} should fail with {code}"));
    assert_error(&err, code);
    err
}

pub fn assert_error(err: &JsValue, code: &str) {
    assert!(err.is_instance_of::<js_sys::Error>(), "an Error instance");
    assert_eq!(str_of(err, "name").as_deref(), Some("AgentSessionsError"));
    assert_eq!(
        str_of(err, "code").as_deref(),
        Some(code),
        "message: {:?}",
        str_of(err, "message")
    );
}

/// Explicit memory storage: in a browser the default is a shared IndexedDB database.
pub const MEMORY: &str = r#"{"storage":{"type":"memory"}}"#;

pub async fn open_store(config: &str) -> JsValue {
    JsFuture::from(SessionStore::open(json(config)))
        .await
        .expect("store opens")
}

pub fn ids(v: &JsValue) -> Vec<String> {
    Array::from(v)
        .iter()
        .filter_map(|x| x.as_string())
        .collect()
}

pub fn contents(history: &JsValue) -> Vec<String> {
    Array::from(history)
        .iter()
        .map(|m| str_of(&m, "content").unwrap_or_default())
        .collect()
}

pub async fn store_lifecycle() {
    let store = open_store(r#"{"storage":{"type":"memory"}}"#).await;
    let auto = ok(&store, "create", &[]).await;
    let auto_id = str_of(&auto, "id").unwrap();
    assert!(
        auto_id.starts_with("sess_") && auto_id.len() == 37,
        "{auto_id}"
    );
    let custom = ok(
        &store,
        "create",
        &[
            "user-sarah-2024".into(),
            json(r#"{"title":"Sarah","metadata":{"tier":"premium"}}"#),
        ],
    )
    .await;
    assert_eq!(str_of(&custom, "title").as_deref(), Some("Sarah"));
    assert_eq!(
        str_of(&get(&custom, "metadata"), "tier").as_deref(),
        Some("premium")
    );
    fails(
        &store,
        "create",
        &["user-sarah-2024".into()],
        "SESSION_EXISTS",
    )
    .await;
    assert!(ok(&store, "get", &["nobody".into()]).await.is_null());
    let listed = ids(&ok(&store, "listSessions", &[]).await);
    assert_eq!(listed, vec![auto_id.clone(), "user-sarah-2024".to_owned()]);

    ok(
        &custom,
        "addMessage",
        &[json(r#"{"role":"user","content":"My name is Sarah."}"#)],
    )
    .await;
    let reply = ok(
        &custom,
        "addMessage",
        &[json(
            r#"{"role":"assistant","content":"Hi Sarah!","name":"assistant"}"#,
        )],
    )
    .await;
    assert_eq!(num_of(&reply, "seq"), Some(1.0));
    assert_eq!(str_of(&reply, "status").as_deref(), Some("complete"));
    assert_eq!(num_of(&custom, "messageCount"), Some(2.0));
    let history = ok(&custom, "getHistory", &[]).await;
    assert_eq!(contents(&history), ["My name is Sarah.", "Hi Sarah!"]);
    let last = ok(&custom, "getHistory", &[json(r#"{"limit":1}"#)]).await;
    assert_eq!(contents(&last), ["Hi Sarah!"]);

    // Another session sees nothing of this one.
    let other_history = ok(&auto, "getHistory", &[]).await;
    assert_eq!(Array::from(&other_history).length(), 0);

    ok(&custom, "reset", &[]).await;
    assert_eq!(
        Array::from(&ok(&custom, "getHistory", &[]).await).length(),
        0
    );
    let again = ok(&store, "get", &["user-sarah-2024".into()]).await;
    assert_eq!(
        str_of(&get(&again, "metadata"), "tier").as_deref(),
        Some("premium")
    );

    assert_eq!(ok(&custom, "delete", &[]).await, JsValue::TRUE);
    assert!(ok(&store, "get", &["user-sarah-2024".into()])
        .await
        .is_null());
    fails(&custom, "getHistory", &[], "SESSION_NOT_FOUND").await;
    assert_eq!(
        ok(&store, "delete", &["user-sarah-2024".into()]).await,
        JsValue::FALSE
    );
}

pub async fn bad_input_gives_typed_errors_and_loses_nothing() {
    let store = open_store(MEMORY).await;
    let s = ok(&store, "create", &["s".into()]).await;
    ok(
        &s,
        "addMessage",
        &[json(r#"{"role":"user","content":"keep me"}"#)],
    )
    .await;
    for bad in [
        r#"{"role":"wizard","content":"x"}"#,
        r#"{"role":"user","content":""}"#,
        r#"{"role":"user"}"#,
        r#"{"role":"tool","content":"r"}"#,
        r#"{"content":"no role"}"#,
        r#"{"role":"user","content":{"nested":true}}"#,
        r#"null"#,
        r#"7"#,
    ] {
        fails(&s, "addMessage", &[json(bad)], "INVALID_MESSAGE").await;
    }
    // Values JSON cannot carry: a cycle, a BigInt, a Symbol.
    let cyclic = json(r#"{"role":"user","content":"x"}"#);
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    let err = fails(&s, "addMessage", &[cyclic], "INVALID_MESSAGE").await;
    assert!(
        get(&err, "cause").is_object(),
        "the TypeError is kept as cause"
    );
    fails(
        &s,
        "addMessage",
        &[js_sys::BigInt::from(1u32).into()],
        "INVALID_MESSAGE",
    )
    .await;
    fails(
        &store,
        "create",
        &[js_sys::Symbol::for_("x").into()],
        "INVALID_ID",
    )
    .await;
    fails(&store, "create", &[JsValue::from_f64(5.0)], "INVALID_ID").await;
    fails(&store, "create", &["".into()], "INVALID_ID").await;
    fails(&store, "create", &["a\u{0}b".into()], "INVALID_ID").await;
    fails(&store, "create", &["x".repeat(129).into()], "INVALID_ID").await;
    fails(&store, "get", &[JsValue::UNDEFINED], "INVALID_ID").await;
    fails(
        &store,
        "create",
        &["m".into(), json(r#"{"metadata":[1]}"#)],
        "INVALID_METADATA",
    )
    .await;
    fails(
        &store,
        "create",
        &["m".into(), json(r#"{"colour":"red"}"#)],
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        &store,
        "querySessions",
        &[json(r#"{"limit":0}"#)],
        "INVALID_ARGUMENT",
    )
    .await;
    fails(
        &store,
        "querySessions",
        &[json(r#"{"cursor":"zzz"}"#)],
        "INVALID_ARGUMENT",
    )
    .await;
    let history = ok(&s, "getHistory", &[]).await;
    assert_eq!(contents(&history), ["keep me"]);
    assert_eq!(ids(&ok(&store, "listSessions", &[]).await), ["s"]);
}

pub async fn prototype_keys_are_refused_and_nothing_is_polluted() {
    let store = open_store(MEMORY).await;
    // JSON.parse makes "__proto__" an own key, as data from the network would.
    let evil = json(r#"{"metadata":{"a":{"__proto__":{"polluted":true}}}}"#);
    fails(&store, "create", &["p".into(), evil], "INVALID_METADATA").await;
    let evil2 = json(r#"{"metadata":{"constructor":{"prototype":{"polluted":true}}}}"#);
    fails(&store, "create", &["p".into(), evil2], "INVALID_METADATA").await;
    let s = ok(&store, "create", &["p".into()]).await;
    let msg = json(r#"{"role":"user","content":"x","metadata":{"__proto__":{"polluted":true}}}"#);
    fails(&s, "addMessage", &[msg], "INVALID_MESSAGE").await;
    let plain = js_sys::Object::new();
    assert!(get(&plain, "polluted").is_undefined());
    assert!(get(&js_sys::Object::new().into(), "polluted").is_undefined());
}

pub async fn query_sessions_pages_newest_first() {
    let store = open_store(MEMORY).await;
    for i in 0..5 {
        let s = ok(&store, "create", &[format!("s{i}").into()]).await;
        ok(
            &s,
            "addMessage",
            &[json(r#"{"role":"user","content":"hi"}"#)],
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor = JsValue::NULL;
    loop {
        let opts = js_sys::Object::new();
        Reflect::set(&opts, &"limit".into(), &JsValue::from_f64(2.0)).unwrap();
        Reflect::set(&opts, &"cursor".into(), &cursor).unwrap();
        let page = ok(&store, "querySessions", &[opts.into()]).await;
        for s in Array::from(&get(&page, "sessions")).iter() {
            seen.push(str_of(&s, "id").unwrap());
            assert!(get(&s, "nextSeq").is_undefined());
        }
        cursor = get(&page, "nextCursor");
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no session twice: {seen:?}");
}

pub async fn agkit_memory_add_and_list_by_session() {
    let store = open_store(MEMORY).await;
    let add = |id: &str, content: &str, session: &str| {
        let entry = json(&format!(
            r#"{{"message":{{"id":"{id}","role":"user","content":"{content}"}},"state":{{"userId":"{session}"}}}}"#
        ));
        Reflect::set(
            &get(&entry, "message"),
            &"timestamp".into(),
            &js_sys::Date::new(&JsValue::from_f64(1_700_000_000_000.0)),
        )
        .unwrap();
        (entry, json(&format!(r#"{{"sessionId":"{session}"}}"#)))
    };
    let (a, a_opts) = add("msg-1", "Hello, I'm Alice", "user-alice-session-1");
    let (b, b_opts) = add("msg-1", "Hi, I'm Bob", "user-bob-session-1");
    ok(&store, "add", &[a, a_opts.clone()]).await;
    ok(&store, "add", &[b, b_opts.clone()]).await;
    let alice = Array::from(&ok(&store, "list", &[a_opts]).await);
    let bob = Array::from(&ok(&store, "list", &[b_opts]).await);
    assert_eq!((alice.length(), bob.length()), (1, 1));
    let alice_msg = get(&alice.get(0), "message");
    assert_eq!(
        str_of(&alice_msg, "content").as_deref(),
        Some("Hello, I'm Alice")
    );
    assert_eq!(str_of(&alice_msg, "id").as_deref(), Some("msg-1"));
    let ts = get(&alice_msg, "timestamp");
    assert_eq!(
        ts.dyn_ref::<js_sys::Date>().map(|d| d.get_time()),
        Some(1_700_000_000_000.0)
    );
    assert_eq!(
        str_of(&get(&alice.get(0), "state"), "userId").as_deref(),
        Some("user-alice-session-1")
    );
    let bob_msg = get(&bob.get(0), "message");
    assert_eq!(str_of(&bob_msg, "content").as_deref(), Some("Hi, I'm Bob"));
    let none = ok(&store, "list", &[json(r#"{"sessionId":"nobody"}"#)]).await;
    assert_eq!(Array::from(&none).length(), 0);
}

pub async fn events_fire_and_unsubscribe() {
    let store = open_store(MEMORY).await;
    let log = Array::new();
    let log2 = log.clone();
    let listener = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        log2.push(&get(&e, "type"));
    });
    let off = ok(
        &store,
        "on",
        &["session:created".into(), listener.as_ref().clone()],
    )
    .await;
    let _ = ok(
        &store,
        "on",
        &["message:added".into(), listener.as_ref().clone()],
    )
    .await;
    fails(
        &store,
        "on",
        &["nope".into(), listener.as_ref().clone()],
        "INVALID_ARGUMENT",
    )
    .await;
    let s = ok(&store, "create", &["e".into()]).await;
    ok(
        &s,
        "addMessage",
        &[json(r#"{"role":"user","content":"x"}"#)],
    )
    .await;
    off.dyn_ref::<Function>()
        .unwrap()
        .call0(&JsValue::NULL)
        .unwrap();
    ok(&store, "create", &["e2".into()]).await;
    assert_eq!(ids(&log.into()), ["session:created", "message:added"]);
    // A throwing listener does not break the write that emitted the event.
    let thrower = Function::new_no_args("throw new Error('listener bug')");
    ok(&store, "on", &["session:deleted".into(), thrower.into()]).await;
    assert_eq!(ok(&store, "delete", &["e".into()]).await, JsValue::TRUE);
    drop(listener);
}

pub async fn runs_are_tracked() {
    let store = open_store(MEMORY).await;
    let s = ok(&store, "create", &["r".into()]).await;
    let run = ok(&s, "createRun", &[]).await;
    assert!(get(&run, "duration").is_null() || get(&run, "duration").is_undefined());
    ok(&run, "start", &[]).await;
    assert_eq!(str_of(&run, "status").as_deref(), Some("running"));
    ok(&run, "complete", &[json(r#"{"tokensUsed":150}"#)]).await;
    assert_eq!(str_of(&run, "status").as_deref(), Some("completed"));
    assert!(num_of(&run, "duration").unwrap() >= 0.0);
    let failed = ok(&s, "createRun", &[]).await;
    ok(&failed, "start", &[]).await;
    ok(&failed, "fail", &[js_sys::Error::new("boom").into()]).await;
    let runs = Array::from(&ok(&s, "getRuns", &[]).await);
    assert_eq!(runs.length(), 2);
    assert_eq!(
        num_of(&get(&runs.get(0), "usage"), "totalTokens"),
        Some(150.0)
    );
    assert_eq!(str_of(&runs.get(1), "status").as_deref(), Some("failed"));
    assert_eq!(
        str_of(&runs.get(1), "errorMessage").as_deref(),
        Some("boom")
    );
    ok(&s, "refresh", &[]).await;
    assert_eq!(num_of(&get(&s, "usage"), "totalTokens"), Some(150.0));
}

pub async fn agent_manages_sessions_like_dexto() {
    let agent: JsValue = Agent::new(json(
        r#"{"name":"assistant","instructions":"Be brief.","storage":{"type":"memory"}}"#,
    ))
    .expect("agent")
    .into();
    ok(&agent, "start", &[]).await;
    let s1 = ok(&agent, "createSession", &[]).await;
    assert!(str_of(&s1, "id").unwrap().starts_with("sess_"));
    let s2 = ok(&agent, "createSession", &["user-sarah-2024".into()]).await;
    assert_eq!(str_of(&s2, "id").as_deref(), Some("user-sarah-2024"));
    assert!(ok(&agent, "getSession", &["nope".into()]).await.is_null());
    assert_eq!(ids(&ok(&agent, "listSessions", &[]).await).len(), 2);
    ok(
        &s2,
        "addMessage",
        &[json(r#"{"role":"user","content":"hello"}"#)],
    )
    .await;
    let h = ok(&agent, "getSessionHistory", &["user-sarah-2024".into()]).await;
    assert_eq!(contents(&h), ["hello"]);
    ok(&agent, "resetConversation", &["user-sarah-2024".into()]).await;
    assert_eq!(
        Array::from(&ok(&agent, "getSessionHistory", &["user-sarah-2024".into()]).await).length(),
        0
    );
    assert_eq!(
        ok(&agent, "deleteSession", &["user-sarah-2024".into()]).await,
        JsValue::TRUE
    );
    assert!(ok(&agent, "getSession", &["user-sarah-2024".into()])
        .await
        .is_null());
    fails(
        &agent,
        "getSessionHistory",
        &["user-sarah-2024".into()],
        "SESSION_NOT_FOUND",
    )
    .await;
}

pub async fn agents_share_a_store() {
    let store = open_store(MEMORY).await;
    let cfg = js_sys::Object::new();
    Reflect::set(&cfg, &"name".into(), &"Intake".into()).unwrap();
    Reflect::set(&cfg, &"store".into(), &store).unwrap();
    let a: JsValue = Agent::new(cfg.clone().into()).expect("agent a").into();
    Reflect::set(&cfg, &"name".into(), &"Solution".into()).unwrap();
    let b: JsValue = Agent::new(cfg.into()).expect("agent b").into();
    ok(&a, "createSession", &["support-case-456".into()]).await;
    assert!(!ok(&b, "getSession", &["support-case-456".into()])
        .await
        .is_null());
    assert_eq!(
        ids(&ok(&store, "listSessions", &[]).await),
        ["support-case-456"]
    );
}

pub fn bad_agent_config_is_refused_synchronously() {
    for (cfg, code) in [
        (r#"{"storage":{"type":"floppy"}}"#, "INVALID_CONFIG"),
        (r#"{"sessions":{"maxSesions":5}}"#, "INVALID_CONFIG"),
        (r#"{"sessions":{"maxSessions":-1}}"#, "INVALID_CONFIG"),
        (r#"{"retention":{"expireAfter":"soon"}}"#, "INVALID_CONFIG"),
        (r#"{"name":""}"#, "INVALID_CONFIG"),
        (r#"{"session":""}"#, "INVALID_ID"),
        (r#"{"store":{}}"#, "INVALID_CONFIG"),
        (r#"null"#, "INVALID_CONFIG"),
    ] {
        match Agent::new(json(cfg)) {
            Ok(_) => panic!("{cfg} should be refused"),
            Err(e) => assert_error(&e, code),
        }
    }
}
