//! Bindings and storage backends in headless browsers: `wasm-pack test --headless --chrome
//! --firefox --test web`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;
#[macro_use]
mod store_contract;
mod store_js;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

bindings_suite!();

store_contract!(memory_store, store_js::memory, wasm);
store_contract!(indexed_db_store, store_js::indexed_db, wasm);
store_contract!(local_storage_store, store_js::local_storage, wasm);
store_contract!(kv_map_store, store_js::kv_map, wasm);
store_contract!(kv_pages_store, store_js::kv_pages, wasm);
store_contract!(kv_durable_store, store_js::kv_durable, wasm);

macro_rules! storage_tests {
    ($($name:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            store_js::$name().await
        }
    )*};
}

storage_tests!(
    browser_restart_restores_everything,
    the_browser_default_is_indexed_db,
    bad_storage_configs_are_refused,
    blocked_or_missing_storage_is_unavailable_or_falls_back,
    local_storage_quota_is_reported_and_recovers,
    damaged_records_are_reported_per_session,
    a_newer_schema_in_another_tab_closes_this_connection,
    an_upgrade_blocked_by_another_tab_is_unavailable,
    an_old_schema_is_upgraded_in_place,
);

/// Web Locks and BroadcastChannel between two stores of one page (two contexts as far as the
/// platform is concerned: separate connections, separate channel objects).
mod peers {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use agent_sessions::core::events::Event;
    use agent_sessions::core::manager::{CreateOptions, ManagerConfig, SessionManager};
    use agent_sessions::core::model::NewMessage;
    use agent_sessions::core::store::MemoryStore;
    use agent_sessions::platform::{clock::JsClock, peers, random::CryptoRandom};
    use js_sys::{Reflect, JSON};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::{spawn_local, JsFuture};
    use wasm_bindgen_test::*;

    async fn sleep(ms: i32) {
        let p = js_sys::Promise::new(&mut |resolve, _| {
            let set_timeout: js_sys::Function =
                js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into())
                    .unwrap()
                    .into();
            set_timeout
                .call2(&JsValue::UNDEFINED, &resolve, &JsValue::from(ms))
                .unwrap();
        });
        JsFuture::from(p).await.unwrap();
    }

    fn manager(scope: &str) -> Rc<SessionManager> {
        let m = Rc::new(SessionManager::new(
            Rc::new(MemoryStore::new()),
            Rc::new(JsClock),
            Rc::new(CryptoRandom::new()),
            ManagerConfig::default(),
        ));
        peers::connect(&m, scope);
        m
    }

    fn scope() -> String {
        format!("test-{}", js_sys::Math::random())
    }

    #[wasm_bindgen_test]
    async fn a_session_lock_held_by_one_store_makes_the_other_wait() {
        let scope = scope();
        let (a, b) = (manager(&scope), manager(&scope));
        let held = a.lock("s").await;
        let got = Rc::new(Cell::new(false));
        let (got2, b2) = (got.clone(), b.clone());
        spawn_local(async move {
            let _g = b2.lock("s").await;
            got2.set(true);
        });
        sleep(100).await;
        assert!(
            !got.get(),
            "the second store entered while the first held the lock"
        );
        // Another session's lock is independent.
        let _other = b.lock("t").await;
        drop(held);
        for _ in 0..1000 {
            if got.get() {
                break;
            }
            sleep(10).await;
        }
        assert!(got.get(), "the lock was not handed over");
    }

    #[wasm_bindgen_test]
    async fn the_other_store_hears_of_changes_marked_remote() {
        let scope = scope();
        let (a, b) = (manager(&scope), manager(&scope));
        let heard = Rc::new(RefCell::new(Vec::<(String, bool)>::new()));
        for name in ["session:created", "message:added"] {
            let h = heard.clone();
            b.events.on(
                name,
                Rc::new(move |e: &Event| {
                    let v = e.to_json();
                    h.borrow_mut()
                        .push((v["type"].as_str().unwrap().into(), v["remote"] == true));
                }),
            );
        }
        a.create(Some("s"), CreateOptions::default()).await.unwrap();
        a.add_message("s", user("hi")).await.unwrap();
        for _ in 0..1000 {
            if heard.borrow().len() >= 2 {
                break;
            }
            sleep(10).await;
        }
        assert_eq!(
            *heard.borrow(),
            [
                ("session:created".into(), true),
                ("message:added".into(), true)
            ]
        );
    }
    /// Another tab's view of the wire: a raw `BroadcastChannel` on the store's channel name,
    /// keeping the text of every post it hears.
    struct RawTab {
        channel: JsValue,
        posts: Rc<RefCell<Vec<String>>>,
        _on: Closure<dyn FnMut(JsValue)>,
    }

    impl RawTab {
        fn open(scope: &str) -> RawTab {
            let ctor: js_sys::Function =
                Reflect::get(&js_sys::global(), &"BroadcastChannel".into())
                    .unwrap()
                    .into();
            let channel = Reflect::construct(
                &ctor,
                &js_sys::Array::of1(&format!("agent-sessions:{scope}").into()),
            )
            .unwrap();
            let posts = Rc::new(RefCell::new(Vec::<String>::new()));
            let p2 = posts.clone();
            let on = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
                let data = Reflect::get(&ev, &"data".into()).unwrap();
                p2.borrow_mut().push(data.as_string().unwrap());
            });
            Reflect::set(&channel, &"onmessage".into(), on.as_ref()).unwrap();
            RawTab {
                channel,
                posts,
                _on: on,
            }
        }

        /// Waits until at least `n` posts were heard; the posts so far.
        async fn heard(&self, n: usize) -> Vec<String> {
            for _ in 0..1000 {
                if self.posts.borrow().len() >= n {
                    break;
                }
                sleep(10).await;
            }
            self.posts.borrow().clone()
        }

        fn clear(&self) {
            self.posts.borrow_mut().clear();
        }

        fn post(&self, text: &str) {
            let post: js_sys::Function = get(&self.channel, "postMessage").into();
            post.call1(&self.channel, &text.into()).unwrap();
        }
    }

    impl Drop for RawTab {
        fn drop(&mut self) {
            let close: js_sys::Function = get(&self.channel, "close").into();
            close.call0(&self.channel).unwrap();
        }
    }

    fn get(v: &JsValue, k: &str) -> JsValue {
        Reflect::get(v, &k.into()).unwrap()
    }

    fn user(text: &str) -> NewMessage {
        NewMessage {
            role: "user".into(),
            content: Some(text.into()),
            ..Default::default()
        }
    }

    /// Appends that finish in one task (a loop of awaited appends over memory: the kept Web Lock
    /// and a store that needs no other task) still go out as one post each, the message first:
    /// a tab of an older version reads only a post's first event, so a post carrying several
    /// appends would hide all but the first message from it.
    #[wasm_bindgen_test]
    async fn appends_of_one_task_go_out_as_one_post_each() {
        let scope = scope();
        let a = manager(&scope);
        let tab = RawTab::open(&scope);
        a.create(Some("s"), CreateOptions::default()).await.unwrap();
        tab.heard(1).await;
        tab.clear();
        for text in ["one", "two", "three"] {
            a.add_message("s", user(text)).await.unwrap();
        }
        let heard: Vec<(String, String, f64)> = tab
            .heard(3)
            .await
            .iter()
            .map(|text| {
                let wire = JSON::parse(text).unwrap();
                (
                    get(&wire, "t").as_string().unwrap(),
                    get(&get(&wire, "d"), "content").as_string().unwrap(),
                    get(&get(&wire, "more"), "length").as_f64().unwrap(),
                )
            })
            .collect();
        let want = |c: &str| ("MessageAdded".to_string(), c.to_string(), 1.0);
        assert_eq!(heard, [want("one"), want("two"), want("three")]);
    }

    /// The wire as another tab sees it, through a raw `BroadcastChannel` on the same name: one
    /// post per append, whose own `t`/`d` are the message (what a tab running an older version,
    /// which reads one event per post, understands) with the session record under `more`; and a
    /// post in that older single form is heard here.
    #[wasm_bindgen_test]
    async fn one_post_per_append_readable_by_an_older_reader_and_the_older_form_is_heard() {
        let scope = scope();
        let a = manager(&scope);
        let tab = RawTab::open(&scope);
        a.create(Some("s"), CreateOptions::default()).await.unwrap();
        tab.heard(1).await;
        tab.clear();
        a.add_message("s", user("hi")).await.unwrap();
        tab.heard(1).await;
        sleep(50).await;
        let posts = tab.heard(1).await;
        assert_eq!(posts.len(), 1, "{posts:?}");
        let wire = JSON::parse(&posts[0]).unwrap();
        assert_eq!(get(&wire, "t").as_string().as_deref(), Some("MessageAdded"));
        assert_eq!(
            get(&get(&wire, "d"), "content").as_string().as_deref(),
            Some("hi")
        );
        let more = get(&wire, "more");
        assert_eq!(get(&more, "length").as_f64(), Some(1.0));
        let second = get(&more, "0");
        assert_eq!(
            get(&second, "t").as_string().as_deref(),
            Some("SessionUpdated")
        );
        assert_eq!(get(&get(&second, "d"), "messageCount").as_f64(), Some(1.0));

        // A tab of an older version posts one event per message.
        let heard = Rc::new(RefCell::new(Vec::<(String, bool)>::new()));
        let h = heard.clone();
        a.events.on(
            "session:deleted",
            Rc::new(move |e: &Event| {
                let v = e.to_json();
                h.borrow_mut()
                    .push((v["sessionId"].as_str().unwrap().into(), v["remote"] == true));
            }),
        );
        tab.post(r#"{"t":"SessionDeleted","d":{"id":"s"}}"#);
        for _ in 0..1000 {
            if !heard.borrow().is_empty() {
                break;
            }
            sleep(10).await;
        }
        assert_eq!(*heard.borrow(), [("s".into(), true)]);
    }
}

/// Two stores over one IndexedDB database in the same page (two connections, two channels): the
/// cross-tab rules in both browsers. Chromium also runs the two-page version (tests/e2e/tabs).
mod shared_indexed_db {
    use std::rc::Rc;

    use agent_sessions::core::manager::{CreateOptions, ManagerConfig, SessionManager};
    use agent_sessions::core::model::NewMessage;
    use agent_sessions::platform::indexed_db::IndexedDbStore;
    use agent_sessions::platform::{clock::JsClock, peers, random::CryptoRandom};
    use futures_util::future::join_all;
    use wasm_bindgen_test::*;

    async fn open(name: &str, with_peers: bool) -> Rc<SessionManager> {
        let store = IndexedDbStore::open(name).await.expect("open IndexedDB");
        let m = Rc::new(SessionManager::new(
            Rc::new(store),
            Rc::new(JsClock),
            Rc::new(CryptoRandom::new()),
            ManagerConfig::default(),
        ));
        if with_peers {
            peers::connect(&m, &format!("idb:{name}"));
        }
        m
    }

    async fn concurrent_appends_land_once_each(with_peers: bool) {
        let name = format!("shared-{}", js_sys::Math::random());
        let (a, b) = (open(&name, with_peers).await, open(&name, with_peers).await);
        a.create(Some("s"), CreateOptions::default()).await.unwrap();
        b.require("s").await.unwrap(); // both hold the session before anyone writes
        let mut writes = Vec::new();
        for i in 0..30 {
            let m = if i % 2 == 0 { a.clone() } else { b.clone() };
            writes.push(async move {
                m.add_message(
                    "s",
                    NewMessage {
                        role: "user".into(),
                        content: Some(format!("m{i}").into()),
                        ..Default::default()
                    },
                )
                .await
            });
        }
        for r in join_all(writes).await {
            r.expect("append");
        }
        let ha = a.history("s", None).await.unwrap();
        let hb = b.history("s", None).await.unwrap();
        assert_eq!(ha, hb, "both stores read one order");
        let mut texts: Vec<_> = ha.iter().map(|m| m.content.clone()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 30, "every message exactly once");
        assert!(ha.windows(2).all(|w| w[0].seq < w[1].seq));
    }

    #[wasm_bindgen_test]
    async fn two_connections_with_web_locks_append_every_message_once() {
        concurrent_appends_land_once_each(true).await;
    }

    #[wasm_bindgen_test]
    async fn two_connections_without_locks_rely_on_the_seq_slot_check() {
        concurrent_appends_land_once_each(false).await;
    }
}
