use std::cell::Cell;
use std::rc::Rc;

use futures_executor::block_on;
use serde_json::json;

use super::*;
use crate::core::ids::testing::SeqRandom;
use crate::core::store::MemoryStore;

pub struct ManualClock(Cell<f64>);

impl ManualClock {
    fn advance(&self, ms: f64) {
        self.0.set(self.0.get() + ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.get()
    }
}

struct Fixture {
    manager: SessionManager,
    clock: Rc<ManualClock>,
    store: Rc<MemoryStore>,
}

fn fixture(config: ManagerConfig) -> Fixture {
    let clock = Rc::new(ManualClock(Cell::new(1_700_000_000_000.0)));
    let store = Rc::new(MemoryStore::new());
    let manager = SessionManager::new(
        store.clone(),
        clock.clone(),
        Rc::new(SeqRandom::new(42)),
        config,
    );
    Fixture {
        manager,
        clock,
        store,
    }
}

impl Fixture {
    async fn create(&self, id: &str) -> Session {
        self.manager
            .create(Some(id), CreateOptions::default())
            .await
            .unwrap()
    }

    async fn say(&self, id: &str, text: &str) -> Message {
        self.manager.add_message(id, user(text)).await.unwrap()
    }
}

fn user(text: &str) -> NewMessage {
    NewMessage {
        role: "user".into(),
        content: Some(json!(text)),
        ..NewMessage::default()
    }
}

fn assistant(text: &str) -> NewMessage {
    NewMessage {
        role: "assistant".into(),
        content: Some(json!(text)),
        ..NewMessage::default()
    }
}

#[test]
fn create_with_generated_and_custom_ids() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        let a = f
            .manager
            .create(None, CreateOptions::default())
            .await
            .unwrap();
        assert!(a.id.starts_with("sess_"));
        let b = f
            .manager
            .create(Some("user-sarah-2024"), CreateOptions::default())
            .await
            .unwrap();
        assert_eq!(b.id, "user-sarah-2024");
        let dup = f
            .manager
            .create(Some("user-sarah-2024"), CreateOptions::default())
            .await;
        assert_eq!(dup.unwrap_err().code, ErrorCode::SessionExists);
        let bad = f.manager.create(Some(" "), CreateOptions::default()).await;
        assert_eq!(bad.unwrap_err().code, ErrorCode::InvalidId);
        assert_eq!(f.manager.list_ids().await.unwrap(), vec![a.id, b.id]);
    });
}

#[test]
fn get_returns_none_when_absent_and_the_session_when_present() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        assert!(f.manager.get("nope").await.unwrap().is_none());
        let opts = CreateOptions {
            title: Some("Support".into()),
            metadata: Some(json!({"tier": "premium"})),
            ..Default::default()
        };
        f.manager.create(Some("s"), opts).await.unwrap();
        let s = f.manager.get("s").await.unwrap().unwrap();
        assert_eq!(s.title.as_deref(), Some("Support"));
        assert_eq!(s.metadata["tier"], "premium");
    });
}

#[test]
fn get_or_create_creates_once_and_ignores_options_after() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        let opts = CreateOptions {
            metadata: Some(json!({"v": 1})),
            ..Default::default()
        };
        let (s, created) = f.manager.get_or_create("user-123", opts).await.unwrap();
        assert!(created);
        let opts2 = CreateOptions {
            metadata: Some(json!({"v": 2})),
            ..Default::default()
        };
        let (again, created2) = f.manager.get_or_create("user-123", opts2).await.unwrap();
        assert!(!created2);
        assert_eq!(again.id, s.id);
        assert_eq!(again.metadata["v"], 1);
    });
}

#[test]
fn messages_append_in_order_and_history_limit_takes_the_newest() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        for i in 0..5 {
            f.clock.advance(1.0);
            f.say("s", &format!("u{i}")).await;
            f.manager
                .add_message("s", assistant(&format!("a{i}")))
                .await
                .unwrap();
        }
        let all = f.manager.history("s", None).await.unwrap();
        assert_eq!(all.len(), 10);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(all[0].content, "u0");
        let last3 = f.manager.history("s", Some(3)).await.unwrap();
        let texts: Vec<_> = last3.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["a3", "u4", "a4"]);
        let s = f.manager.get("s").await.unwrap().unwrap();
        assert_eq!(s.message_count, 10);
        assert!(all.iter().all(|m| m.tokens > 0));
    });
}

#[test]
fn invalid_messages_are_refused_and_nothing_is_stored() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let cases = [
            NewMessage {
                role: "wizard".into(),
                content: Some(json!("x")),
                ..Default::default()
            },
            user(""),
            user("   \n"),
            NewMessage {
                role: "tool".into(),
                content: Some(json!("result")),
                ..Default::default()
            },
            NewMessage {
                role: "user".into(),
                content: Some(json!(42)),
                ..Default::default()
            },
            NewMessage {
                role: "user".into(),
                content: Some(json!("x")),
                metadata: Some(json!({"__proto__": {}})),
                ..Default::default()
            },
        ];
        for c in cases {
            let err = f.manager.add_message("s", c.clone()).await.unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidMessage, "{c:?}");
        }
        assert!(f.manager.history("s", None).await.unwrap().is_empty());
        let missing = f
            .manager
            .add_message("ghost", user("hi"))
            .await
            .unwrap_err();
        assert_eq!(missing.code, ErrorCode::SessionNotFound);
    });
}

#[test]
fn sessions_are_isolated() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("alice").await;
        f.create("alice/2").await;
        f.say("alice", "Hello, I'm Alice").await;
        f.say("alice/2", "Hi, I'm Bob").await;
        let a = f.manager.history("alice", None).await.unwrap();
        let b = f.manager.history("alice/2", None).await.unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 1);
        assert_eq!(a[0].content, "Hello, I'm Alice");
        assert_eq!(b[0].session_id, "alice/2");
    });
}

#[test]
fn reset_clears_history_but_keeps_identity_and_never_reuses_seq() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        let opts = CreateOptions {
            title: Some("T".into()),
            metadata: Some(json!({"k": "v"})),
            ..Default::default()
        };
        f.manager.create(Some("demo"), opts).await.unwrap();
        let first = f.say("demo", "one").await;
        f.manager.reset("demo").await.unwrap();
        assert!(f.manager.history("demo", None).await.unwrap().is_empty());
        let s = f.manager.get("demo").await.unwrap().unwrap();
        assert_eq!((s.title.as_deref(), s.message_count), (Some("T"), 0));
        assert_eq!(s.metadata["k"], "v");
        let next = f.say("demo", "two").await;
        assert!(next.seq > first.seq);
    });
}

#[test]
fn delete_removes_everything_and_is_idempotent() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("demo").await;
        f.say("demo", "x").await;
        assert!(f.manager.delete("demo").await.unwrap());
        assert!(!f.manager.delete("demo").await.unwrap());
        assert!(f.manager.get("demo").await.unwrap().is_none());
        assert!(f
            .store
            .get_messages("demo", MessageQuery::all())
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            f.manager.history("demo", None).await.unwrap_err().code,
            ErrorCode::SessionNotFound
        );
        // The id is free again.
        f.create("demo").await;
        assert!(f.manager.history("demo", None).await.unwrap().is_empty());
    });
}

#[test]
fn update_replaces_title_and_metadata_and_validates() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        f.clock.advance(5.0);
        let s = f
            .manager
            .update(
                "s",
                UpdateOptions {
                    title: Some(Some("New".into())),
                    metadata: Some(json!({"a": 1})),
                },
            )
            .await
            .unwrap();
        assert_eq!(s.title.as_deref(), Some("New"));
        assert!(s.updated_at > s.created_at);
        let bad = f
            .manager
            .update(
                "s",
                UpdateOptions {
                    metadata: Some(json!({"constructor": {"prototype": {}}})),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(bad.code, ErrorCode::InvalidMetadata);
        assert_eq!(f.manager.get("s").await.unwrap().unwrap().metadata["a"], 1);
        let cleared = f
            .manager
            .update(
                "s",
                UpdateOptions {
                    title: Some(None),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(cleared.title, None);
    });
}

#[test]
fn cache_is_bounded_by_max_sessions_lru_and_reloads_evicted_sessions() {
    let f = fixture(ManagerConfig {
        cache: CacheConfig {
            max_sessions: 2,
            session_ttl_ms: 1e12,
        },
        ..Default::default()
    });
    block_on(async {
        for id in ["a", "b", "c"] {
            f.create(id).await;
        }
        assert_eq!(f.manager.cached_ids(), vec!["b", "c"]);
        // Touching b makes c the least recently used.
        f.manager.get("b").await.unwrap().unwrap();
        f.say("a", "still here").await;
        assert_eq!(f.manager.cached_ids(), vec!["b", "a"]);
        assert_eq!(f.manager.history("c", None).await.unwrap().len(), 0);
        assert_eq!(f.manager.history("a", None).await.unwrap().len(), 1);
        assert_eq!(f.manager.list_ids().await.unwrap().len(), 3);
    });
}

#[test]
fn session_ttl_evicts_idle_sessions_from_memory_only() {
    let f = fixture(ManagerConfig {
        cache: CacheConfig {
            max_sessions: 10,
            session_ttl_ms: 1000.0,
        },
        ..Default::default()
    });
    block_on(async {
        f.create("idle").await;
        f.say("idle", "remember me").await;
        f.clock.advance(500.0);
        f.create("busy").await;
        f.clock.advance(600.0);
        assert!(f.manager.sweep().await.unwrap().is_empty());
        assert_eq!(f.manager.cached_ids(), vec!["busy"]);
        let h = f.manager.history("idle", None).await.unwrap();
        assert_eq!(h[0].content, "remember me");
    });
}

#[test]
fn an_append_reads_the_stored_record_in_its_write_and_moves_past_a_taken_position() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        let s = f.create("s").await;
        f.create("other").await;
        // Another writer's message at seq 0 with a record that lags it (as on a store without
        // transactions): the append's position check refuses seq 0, and the retry lands after.
        let mut ahead = s.clone();
        ahead.next_seq = 1;
        ahead.message_count = 1;
        let theirs = Message {
            id: "msg_theirs".into(),
            session_id: "s".into(),
            seq: 0,
            parent: Default::default(),
            ..f.say("other", "x").await.clone()
        };
        f.store.put_message(&ahead, &theirs).await.unwrap();
        f.store.put_session(&s).await.unwrap();
        let ours = f.say("s", "ours").await;
        assert_eq!(ours.seq, 1);
        let h = f.manager.history("s", None).await.unwrap();
        let ids: Vec<_> = h.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["msg_theirs", ours.id.as_str()]);
        assert_eq!(f.manager.require("s").await.unwrap().message_count, 2);
        // The record is read from the store, not the cache: a title another context wrote
        // survives this context's append.
        let mut renamed = f.store.get_session("s").await.unwrap().unwrap();
        renamed.title = Some("theirs".into());
        f.store.put_session(&renamed).await.unwrap();
        f.say("s", "again").await;
        let stored = f.store.get_session("s").await.unwrap().unwrap();
        assert_eq!(stored.title.as_deref(), Some("theirs"));
        assert_eq!((stored.next_seq, stored.message_count), (3, 3));
    });
}

#[test]
fn a_store_append_that_fails_writes_nothing() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let bad = NewMessage {
            role: "nope".into(),
            ..user("x")
        };
        let e = f.manager.add_message("s", bad).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMessage);
        let e = f
            .manager
            .add_message("missing", user("x"))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::SessionNotFound);
        assert!(f.store.get_session("missing").await.unwrap().is_none());
        let stored = f.store.get_session("s").await.unwrap().unwrap();
        assert_eq!((stored.next_seq, stored.message_count), (0, 0));
        assert!(f.manager.history("s", None).await.unwrap().is_empty());
    });
}

#[test]
fn retention_deletes_expired_sessions_on_access_and_on_sweep() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let f = fixture(ManagerConfig {
        retention: RetentionConfig {
            expire_after_ms: Some(1000.0),
            max_age_ms: Some(10_000.0),
        },
        ..Default::default()
    });
    let ev = events.clone();
    f.manager
        .events
        .on(
            "session:expired",
            Rc::new(move |e| ev.borrow_mut().push(e.session_id().to_owned())),
        )
        .unwrap();
    block_on(async {
        f.create("old").await;
        f.create("swept").await;
        f.create("active").await;
        f.clock.advance(900.0);
        f.say("active", "ping").await;
        f.clock.advance(200.0);
        assert!(f.manager.get("old").await.unwrap().is_none());
        assert!(f.store.get_session("old").await.unwrap().is_none());
        assert_eq!(f.manager.sweep().await.unwrap(), vec!["swept"]);
        assert!(f.manager.get("active").await.unwrap().is_some());
        // max_age applies however active the session is.
        for _ in 0..11 {
            f.clock.advance(900.0);
            let _ = f.manager.add_message("active", user("ping")).await;
        }
        assert!(f.manager.get("active").await.unwrap().is_none());
    });
    assert_eq!(*events.borrow(), vec!["old", "swept", "active"]);
}

#[test]
fn query_pages_through_sessions_by_updated_at_newest_first() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        for i in 0..7 {
            f.clock.advance(10.0);
            f.create(&format!("s{i}")).await;
        }
        f.clock.advance(10.0);
        f.say("s2", "bump").await;
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = f
                .manager
                .query(QueryOptions {
                    limit: Some(3),
                    cursor: cursor.clone(),
                    ..Default::default()
                })
                .await
                .unwrap();
            seen.extend(page.sessions.iter().map(|s| s.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["s2", "s6", "s5", "s4", "s3", "s1", "s0"]);
        let by_created = f
            .manager
            .query(QueryOptions {
                limit: Some(2),
                order: SessionOrder::CreatedAt,
                ascending: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<_> = by_created.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["s0", "s1"]);
        let wrong = f
            .manager
            .query(QueryOptions {
                cursor: Some("garbage".into()),
                ..Default::default()
            })
            .await;
        assert_eq!(wrong.unwrap_err().code, ErrorCode::InvalidArgument);
        assert!(f
            .manager
            .query(QueryOptions {
                limit: Some(0),
                ..Default::default()
            })
            .await
            .is_err());
    });
}

#[test]
fn events_report_lifecycle_in_order() {
    let f = fixture(ManagerConfig::default());
    let log = Rc::new(RefCell::new(Vec::new()));
    for name in Event::NAMES {
        let l = log.clone();
        f.manager
            .events
            .on(name, Rc::new(move |e| l.borrow_mut().push(e.name())))
            .unwrap();
    }
    block_on(async {
        f.create("s").await;
        f.say("s", "x").await;
        f.manager
            .update(
                "s",
                UpdateOptions {
                    title: Some(Some("t".into())),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        f.manager.reset("s").await.unwrap();
        f.manager.delete("s").await.unwrap();
    });
    assert_eq!(
        *log.borrow(),
        [
            "session:created",
            "message:added",
            "session:updated",
            "session:updated",
            "session:reset",
            "session:deleted"
        ]
    );
}

#[test]
fn concurrent_appends_to_one_session_are_serialised() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let adds = (0..20).map(|i| f.manager.add_message("s", user(&format!("m{i}"))));
        let results = futures_util::future::join_all(adds).await;
        let mut seqs: Vec<u64> = results.into_iter().map(|r| r.unwrap().seq).collect();
        seqs.sort();
        assert_eq!(seqs, (0..20).collect::<Vec<_>>());
        assert_eq!(f.manager.get("s").await.unwrap().unwrap().message_count, 20);
    });
    assert!(f.manager.locks.is_empty(), "locks are released");
}

#[test]
fn runs_are_stored_and_completed_usage_accumulates_on_the_session() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let mut run = f.manager.new_run("s");
        run.status = RunStatus::Completed;
        run.usage = crate::core::model::Usage {
            input_tokens: 10,
            output_tokens: 5,
            total_tokens: 15,
        };
        f.manager.put_run(&run, true).await.unwrap();
        let runs = f.manager.runs("s").await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            f.manager
                .get("s")
                .await
                .unwrap()
                .unwrap()
                .usage
                .total_tokens,
            15
        );
    });
}

#[test]
fn export_then_import_round_trips_a_session_under_its_own_or_a_new_id() {
    block_on(async {
        let f = fixture(ManagerConfig::default());
        let opts = CreateOptions {
            title: Some("Trip".into()),
            metadata: Some(json!({ "tier": "gold" })),
            ..Default::default()
        };
        f.manager.create(Some("a"), opts).await.unwrap();
        f.say("a", "hello").await;
        f.manager.add_message("a", assistant("hi")).await.unwrap();
        let mut run = f.manager.new_run("a");
        run.status = RunStatus::Completed;
        run.usage.input_tokens = 7;
        f.manager.put_run(&run, true).await.unwrap();
        let bundle = f.manager.export("a").await.unwrap();
        let text = serde_json::to_string(&bundle).unwrap();
        assert!(text.contains("\"format\":\"agent-sessions/session\""));

        // Same id: refused unless overwrite.
        let again: Bundle = serde_json::from_str(&text).unwrap();
        let err = f
            .manager
            .import(again.clone(), ImportOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::SessionExists);
        let replaced = f
            .manager
            .import(
                again.clone(),
                ImportOptions {
                    overwrite: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(replaced.message_count, 2);

        // New id: everything re-homed.
        let copy = f
            .manager
            .import(
                again,
                ImportOptions {
                    id: Some("b".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(copy.title.as_deref(), Some("Trip"));
        assert_eq!(copy.metadata["tier"], "gold");
        assert_eq!(copy.usage.input_tokens, 7);
        let h = f.manager.history("b", None).await.unwrap();
        assert_eq!(
            h.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
            ["hello", "hi"]
        );
        assert!(h.iter().all(|m| m.session_id == "b"));
        let runs = f.manager.runs("b").await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].session_id, "b");
        // Appending continues after the imported seqs.
        let next = f.say("b", "more").await;
        assert_eq!(next.seq, h[1].seq + 1);
    });
}

/// A named way to damage an exported bundle.
type Damage = (&'static str, Box<dyn Fn(&mut serde_json::Value)>);

#[test]
fn import_validates_everything_before_writing_anything() {
    block_on(async {
        let f = fixture(ManagerConfig::default());
        f.create("a").await;
        f.say("a", "one").await;
        f.say("a", "two").await;
        let good = serde_json::to_value(f.manager.export("a").await.unwrap()).unwrap();
        let cases: Vec<Damage> = vec![
            ("format", Box::new(|b| b["format"] = json!("other"))),
            ("version", Box::new(|b| b["version"] = json!(99))),
            (
                "role",
                Box::new(|b| b["messages"][1]["role"] = json!("wizard")),
            ),
            ("order", Box::new(|b| b["messages"][1]["seq"] = json!(0))),
            (
                "owner",
                Box::new(|b| b["messages"][0]["sessionId"] = json!("z")),
            ),
            (
                "empty user",
                Box::new(|b| b["messages"][0]["content"] = json!(" ")),
            ),
            (
                "proto",
                Box::new(|b| b["session"]["metadata"] = json!({ "__proto__": {} })),
            ),
            ("id", Box::new(|b| b["session"]["id"] = json!(""))),
        ];
        for (what, break_it) in cases {
            let mut b = good.clone();
            break_it(&mut b);
            let parsed: std::result::Result<Bundle, _> = serde_json::from_value(b);
            let Ok(bundle) = parsed else { continue };
            let opts = ImportOptions {
                id: Some("fresh".into()),
                ..Default::default()
            };
            let err = f.manager.import(bundle, opts).await;
            assert!(err.is_err(), "{what} was accepted");
            assert!(
                f.manager.get("fresh").await.unwrap().is_none(),
                "{what} left a session behind"
            );
        }
    });
}

/// Two contexts over one storage, wired the way tabs are: a shared lock per session and
/// delivery of each context's events to the other.
mod peers {
    use super::*;
    use crate::core::io::{PeerLock, Peers};
    use futures_util::future::join_all;
    use futures_util::lock::Mutex;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::Arc;

    #[derive(Default)]
    struct Hub {
        locks: RefCell<HashMap<String, Arc<Mutex<()>>>>,
        managers: RefCell<Vec<std::rc::Weak<SessionManager>>>,
        last_holder: RefCell<HashMap<String, usize>>,
    }

    struct Tab {
        hub: Rc<Hub>,
        index: usize,
        with_locks: bool,
    }

    #[async_trait::async_trait(?Send)]
    impl Peers for Tab {
        async fn lock(&self, session_id: &str) -> Option<PeerLock> {
            if !self.with_locks {
                return None;
            }
            let m = self
                .hub
                .locks
                .borrow_mut()
                .entry(session_id.to_owned())
                .or_default()
                .clone();
            let held = m.lock_owned().await;
            // Unbroken when this tab was the last to hold it, as with a lease kept between
            // consecutive writes: nobody else can have written the session since.
            let last = self
                .hub
                .last_holder
                .borrow_mut()
                .insert(session_id.to_owned(), self.index);
            Some(PeerLock {
                held: Box::new(held),
                unbroken: last == Some(self.index),
            })
        }

        fn publish(&self, event: &Event) {
            let text = crate::core::peers::encode(event).unwrap();
            for (i, m) in self.hub.managers.borrow().iter().enumerate() {
                if i != self.index {
                    if let Some(m) = m.upgrade() {
                        for e in crate::core::peers::decode(&text) {
                            m.apply_remote(e);
                        }
                    }
                }
            }
        }
    }

    fn tabs(with_locks: bool) -> (Rc<SessionManager>, Rc<SessionManager>) {
        let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
        let hub = Rc::new(Hub::default());
        let make = |index: usize, seed: u64| {
            let clock = Rc::new(ManualClock(Cell::new(1_700_000_000_000.0)));
            let m = Rc::new(SessionManager::new(
                store.clone(),
                clock,
                Rc::new(SeqRandom::new(seed)),
                ManagerConfig::default(),
            ));
            m.set_peers(Rc::new(Tab {
                hub: hub.clone(),
                index,
                with_locks,
            }));
            hub.managers.borrow_mut().push(Rc::downgrade(&m));
            m
        };
        (make(0, 1), make(1, 2))
    }

    #[test]
    fn interleaved_appends_from_two_contexts_land_once_each_in_one_order() {
        for with_locks in [true, false] {
            block_on(async {
                let (a, b) = tabs(with_locks);
                a.create(Some("s"), CreateOptions::default()).await.unwrap();
                // Both contexts have the session cached before either writes.
                b.require("s").await.unwrap();
                let mut writes = Vec::new();
                for i in 0..20 {
                    let (m, who) = if i % 2 == 0 { (&a, "a") } else { (&b, "b") };
                    writes.push(m.add_message("s", user(&format!("{who}{i}"))));
                }
                for r in join_all(writes).await {
                    r.unwrap();
                }
                for m in [&a, &b] {
                    let h = m.history("s", None).await.unwrap();
                    let mut texts: Vec<_> = h.iter().map(|m| m.content.clone()).collect();
                    assert_eq!(h.len(), 20, "locks: {with_locks}");
                    assert!(h.windows(2).all(|w| w[0].seq < w[1].seq));
                    texts.sort();
                    texts.dedup();
                    assert_eq!(texts.len(), 20);
                    assert_eq!(m.require("s").await.unwrap().message_count, 20);
                }
            });
        }
    }

    #[test]
    fn a_stale_context_without_locks_never_overwrites_another_writers_message() {
        block_on(async {
            let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
            let make = |seed| {
                SessionManager::new(
                    store.clone(),
                    Rc::new(ManualClock(Cell::new(1.0))),
                    Rc::new(SeqRandom::new(seed)),
                    ManagerConfig::default(),
                )
            };
            let (a, b) = (make(1), make(2));
            a.create(Some("s"), CreateOptions::default()).await.unwrap();
            b.require("s").await.unwrap(); // b caches nextSeq 0
            a.add_message("s", user("from a")).await.unwrap();
            a.add_message("s", user("from a again")).await.unwrap();
            let m = b.add_message("s", user("from b")).await.unwrap();
            assert_eq!(m.seq, 2);
            let h = a.history("s", None).await.unwrap();
            let texts: Vec<_> = h.iter().map(|m| m.content.as_str()).collect();
            assert_eq!(texts, ["from a", "from a again", "from b"]);
        });
    }

    #[test]
    fn other_contexts_hear_of_changes_marked_remote_and_drop_their_stale_copy() {
        block_on(async {
            let (a, b) = tabs(true);
            let heard = Rc::new(RefCell::new(Vec::new()));
            let h2 = heard.clone();
            for name in ["session:created", "message:added", "session:updated"] {
                let h3 = h2.clone();
                b.events.on(
                    name,
                    Rc::new(move |e: &Event| {
                        let v = e.to_json();
                        h3.borrow_mut()
                            .push((v["type"].as_str().unwrap().to_owned(), v["remote"] == true));
                    }),
                );
            }
            a.create(Some("s"), CreateOptions::default()).await.unwrap();
            b.require("s").await.unwrap();
            a.add_message("s", user("hi")).await.unwrap();
            assert_eq!(
                *heard.borrow(),
                [
                    ("session:created".to_owned(), true),
                    ("message:added".to_owned(), true),
                    ("session:updated".to_owned(), true)
                ]
            );
            // b's cached record was dropped, so it reads the new count.
            assert_eq!(b.require("s").await.unwrap().message_count, 1);
        });
    }
}

fn add(messages: Vec<NewMessage>) -> AddMessages {
    AddMessages {
        messages,
        ..AddMessages::default()
    }
}

fn texts(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

#[test]
fn add_messages_appends_several_with_one_event_each() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        f.say("s", "first").await;
        let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
        for name in ["message:added", "session:updated"] {
            let seen = seen.clone();
            f.manager.events.on(
                name,
                Rc::new(move |e: &Event| seen.borrow_mut().push(e.name())),
            );
        }
        let written = f
            .manager
            .add_messages("s", add(vec![user("a"), assistant("b"), user("c")]))
            .await
            .unwrap();
        assert_eq!(written.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            *seen.borrow(),
            [
                "message:added",
                "message:added",
                "message:added",
                "session:updated"
            ]
        );
        let history = f.manager.history("s", None).await.unwrap();
        assert_eq!(texts(&history), ["first", "a", "b", "c"]);
        let s = f.store.get_session("s").await.unwrap().unwrap();
        assert_eq!((s.message_count, s.next_seq, s.head_seq), (4, 4, None));
    });
}

#[test]
fn add_messages_with_one_bad_message_writes_nothing() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        f.say("s", "first").await;
        let before = f.store.get_session("s").await.unwrap();
        let bad = NewMessage {
            role: "robot".into(),
            ..user("x")
        };
        let mut batch = add(vec![user("a"), bad, user("c")]);
        batch.metadata = Some(json!({ "op": 1 }));
        batch.truncate_after = Some(None);
        let err = f.manager.add_messages("s", batch).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidMessage);
        // Bad metadata too, with good messages.
        let mut batch = add(vec![user("a")]);
        batch.metadata = Some(json!("not an object"));
        let err = f.manager.add_messages("s", batch).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidMetadata);
        // And an unknown truncation point.
        let mut batch = add(vec![user("a")]);
        batch.truncate_after = Some(Some("nope".into()));
        let err = f.manager.add_messages("s", batch).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::MessageNotFound);
        let err = f
            .manager
            .add_messages("gone", add(vec![]))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::SessionNotFound);
        assert_eq!(f.store.get_session("s").await.unwrap(), before);
        let stored = f
            .store
            .get_messages("s", MessageQuery::all())
            .await
            .unwrap();
        assert_eq!(texts(&stored), ["first"]);
    });
}

#[test]
fn add_messages_truncates_appends_and_replaces_metadata_at_once() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let kept = f.say("s", "q1").await;
        f.say("s", "a1").await;
        f.say("s", "q2").await;
        let mut batch = add(vec![assistant("a1'"), user("q2'")]);
        batch.truncate_after = Some(Some(kept.id.clone()));
        batch.metadata = Some(json!({ "ops": ["x"] }));
        let written = f.manager.add_messages("s", batch).await.unwrap();
        assert_eq!(written[0].parent, Parent::Seq(kept.seq));
        assert_eq!(written[1].parent, Parent::Seq(written[0].seq));
        let history = f.manager.history("s", None).await.unwrap();
        assert_eq!(texts(&history), ["q1", "a1'", "q2'"]);
        // The truncated messages are gone from storage, not only from the path.
        let stored = f
            .store
            .get_messages("s", MessageQuery::all())
            .await
            .unwrap();
        assert_eq!(texts(&stored), ["q1", "a1'", "q2'"]);
        let s = f.store.get_session("s").await.unwrap().unwrap();
        assert_eq!(s.metadata.get("ops"), Some(&json!(["x"])));
        assert_eq!((s.message_count, s.head_seq), (3, Some(4)));
        // A clear (`Some(None)`) replaces the whole history, summaries included.
        f.manager
            .store()
            .put_summary(&Summary {
                id: "sum".into(),
                session_id: "s".into(),
                content: "old".into(),
                covers: vec![],
                rolls_up: None,
                through_seq: 3,
                tokens: 1,
                model: None,
                created_at: 0.0,
            })
            .await
            .unwrap();
        let mut batch = add(vec![user("fresh")]);
        batch.truncate_after = Some(None);
        f.manager.add_messages("s", batch).await.unwrap();
        let history = f.manager.history("s", None).await.unwrap();
        assert_eq!(texts(&history), ["fresh"]);
        assert_eq!(history[0].parent, Parent::Previous);
        assert!(f.manager.summaries("s").await.unwrap().is_empty());
        let s = f.store.get_session("s").await.unwrap().unwrap();
        assert_eq!((s.message_count, s.head_seq, s.first_seq), (1, None, None));
    });
}

#[test]
fn add_messages_on_a_branched_session_continue_the_active_branch() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let q = f.say("s", "q").await;
        f.manager.add_message("s", assistant("a")).await.unwrap();
        let edit = EditOptions {
            content: Some(json!("q'")),
            ..EditOptions::default()
        };
        let alt = f.manager.edit_message("s", &q.id, edit).await.unwrap();
        let written = f
            .manager
            .add_messages("s", add(vec![assistant("a'"), user("more")]))
            .await
            .unwrap();
        assert_eq!(written[0].parent, Parent::Seq(alt.seq));
        let history = f.manager.history("s", None).await.unwrap();
        assert_eq!(texts(&history), ["q'", "a'", "more"]);
        // The other branch is still there.
        let branches = f.manager.branches("s", &q.id).await.unwrap();
        assert_eq!(texts(&branches), ["q", "q'"]);
        let s = f.store.get_session("s").await.unwrap().unwrap();
        assert_eq!((s.message_count, s.head_seq), (3, Some(written[1].seq)));
    });
}

#[test]
fn add_messages_moves_past_a_position_another_writer_took() {
    let f = fixture(ManagerConfig::default());
    block_on(async {
        f.create("s").await;
        let first = f.say("s", "first").await;
        // Another writer's message at the next position, its record not written yet.
        let stored = f.store.get_session("s").await.unwrap().unwrap();
        let theirs = Message {
            id: "theirs".into(),
            seq: stored.next_seq,
            content: "theirs".into(),
            ..first
        };
        f.store.put_message(&stored, &theirs).await.unwrap();
        let written = f
            .manager
            .add_messages("s", add(vec![user("a"), user("b")]))
            .await
            .unwrap();
        assert_eq!(written.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3]);
        let history = f.manager.history("s", None).await.unwrap();
        assert_eq!(texts(&history), ["first", "theirs", "a", "b"]);
    });
}

/// On a key-value store without transactions an interrupted write can leave a message past the
/// record's range (its record never written). Reads do not reach it, so only the refused
/// position tells where the session really ends: appends move past it instead of failing with
/// SESSION_BUSY forever.
#[test]
fn appends_move_past_a_message_whose_record_was_never_written_on_kv() {
    use crate::core::store::kv::{keys, KvStore, MemoryKv};
    let kv = MemoryKv::new();
    let manager = SessionManager::new(
        Rc::new(KvStore::new(kv.clone(), "t/")),
        Rc::new(ManualClock(Cell::new(1_700_000_000_000.0))),
        Rc::new(SeqRandom::new(7)),
        ManagerConfig::default(),
    );
    block_on(async {
        manager
            .create(Some("s"), CreateOptions::default())
            .await
            .unwrap();
        let first = manager.add_message("s", user("first")).await.unwrap();
        for seq in [1, 2] {
            let orphan = Message {
                id: format!("orphan{seq}"),
                seq,
                content: "orphan".into(),
                ..first.clone()
            };
            kv.set_raw(
                &keys::message("t/", "s", seq),
                &crate::core::record_json::message_json(&orphan),
            );
        }
        let a = manager.add_message("s", user("a")).await.unwrap();
        assert_eq!(a.seq, 3);
        let orphan = Message {
            id: "orphan4".into(),
            seq: 4,
            content: "orphan".into(),
            ..first.clone()
        };
        kv.set_raw(
            &keys::message("t/", "s", 4),
            &crate::core::record_json::message_json(&orphan),
        );
        let more = manager
            .add_messages("s", add(vec![user("b"), user("c")]))
            .await
            .unwrap();
        assert_eq!(more.iter().map(|m| m.seq).collect::<Vec<_>>(), [5, 6]);
        let history = manager.history("s", None).await.unwrap();
        assert_eq!(
            texts(&history),
            ["first", "orphan", "orphan", "a", "orphan", "b", "c"]
        );
    });
}
