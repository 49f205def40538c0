//! The storage conformance suite: one body of tests every [`Store`] backend must pass, run
//! natively (`tests/store_native.rs`: memory and a `KvStore` over a `BTreeMap`), in Node
//! (`tests/node.rs`: memory, host-KV objects) and in headless Chromium and Firefox (`tests/web.rs`:
//! memory, IndexedDB, localStorage, host-KV objects).
//!
//! A backend is described by how to open a new store instance over the same storage (every
//! "restart" check opens a second one) and, where the test can reach the raw storage, how to
//! write garbage over a record.

#![allow(dead_code)]

use std::rc::Rc;

use agent_sessions::core::error::ErrorCode;
use agent_sessions::core::model::{Message, MessageStatus, Role, Run, RunStatus, Session, Summary};
use agent_sessions::core::store::{MessageQuery, Store};
use futures_util::future::LocalBoxFuture;
use serde_json::json;

/// A raw record a test damages.
pub enum Damage {
    Session(String),
    Message(String, u64),
}

pub struct Backend {
    pub name: String,
    /// A new store instance over the same storage.
    pub open: Box<dyn Fn() -> LocalBoxFuture<'static, Rc<dyn Store>>>,
    /// Writes garbage over a record; `None` where the storage is out of the test's reach.
    pub damage: Option<Box<dyn Fn(Damage) -> LocalBoxFuture<'static, ()>>>,
}

/// Declares one test per case of the suite for a backend constructor `$make: async fn() ->
/// Backend`, in a module named `$module`: `wasm` cases are `#[wasm_bindgen_test]`s, `native`
/// ones plain `#[test]`s driven by `futures_executor::block_on`.
#[macro_export]
macro_rules! store_contract {
    ($module:ident, $make:path, $kind:ident) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            store_contract!(@$kind $make,
                sessions_are_created_read_listed_and_deleted,
                messages_append_read_in_order_and_replace_by_seq,
                sessions_are_isolated_even_with_similar_ids,
                reset_drops_messages_and_summaries_but_keeps_runs,
                runs_keep_creation_order_and_upsert,
                summaries_keep_order_update_and_delete,
                meta_values_round_trip,
                a_new_instance_sees_everything,
                ten_thousand_messages_read_newest_cheaply,
                listing_and_windows_never_read_other_records,
                a_damaged_session_is_reported_isolated_and_deletable,
                a_tree_round_trips_and_truncation_deletes_only_what_it_names,
                one_write_deletes_appends_and_refuses_a_taken_seq,
            );
        }
    };
    (@wasm $make:path, $($case:ident),* $(,)?) => {$(
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn $case() {
            let backend = $make().await;
            store_contract::$case(&backend).await;
        }
    )*};
    (@native $make:path, $($case:ident),* $(,)?) => {$(
        #[test]
        fn $case() {
            futures_executor::block_on(async {
                let backend = $make().await;
                store_contract::$case(&backend).await;
            })
        }
    )*};
}

pub fn session(id: &str) -> Session {
    let mut s = Session::new(id.to_owned(), 1_700_000_000_000.0);
    s.title = Some(format!("title of {id}"));
    s.metadata = json!({ "tier": "premium", "n": 1 })
        .as_object()
        .cloned()
        .unwrap();
    s
}

pub fn message(session: &Session, content: &str) -> Message {
    Message {
        id: format!("msg-{}-{}", session.id, session.next_seq),
        session_id: session.id.clone(),
        seq: session.next_seq,
        parent: Default::default(),
        role: if session.next_seq % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        },
        content: content.to_owned(),
        name: None,
        tool_calls: vec![],
        tool_call_id: None,
        status: MessageStatus::Complete,
        created_at: 1_700_000_000_000.0 + session.next_seq as f64,
        tokens: 3,
        run_id: None,
        metadata: None,
        payload: None,
    }
}

/// Appends as the manager does: the message and the updated session record together.
pub async fn append(store: &dyn Store, session: &mut Session, content: &str) -> Message {
    let m = message(session, content);
    session.next_seq += 1;
    session.message_count += 1;
    session.updated_at += 1.0;
    store.put_message(session, &m).await.expect("put_message");
    m
}

/// A new session holding `n` messages, `m0`…, as plain appends write them.
pub async fn linear(store: &dyn Store, id: &str, n: usize) -> Session {
    let mut s = session(id);
    store.put_session(&s).await.unwrap();
    for i in 0..n {
        append(store, &mut s, &format!("m{i}")).await;
    }
    s
}

pub fn run(session_id: &str, id: &str) -> Run {
    Run {
        id: id.to_owned(),
        session_id: session_id.to_owned(),
        agent: Some("assistant".into()),
        provider: Some("mock".into()),
        model: None,
        status: RunStatus::Pending,
        created_at: 5.0,
        started_at: None,
        ended_at: None,
        duration_ms: None,
        attempts: 0,
        usage: Default::default(),
        error_code: None,
        error_message: None,
        estimated_input_tokens: None,
    }
}

pub fn summary(session_id: &str, id: &str, through: u64) -> Summary {
    Summary {
        id: id.to_owned(),
        session_id: session_id.to_owned(),
        content: format!("summary {id}"),
        covers: vec!["m0".into()],
        through_seq: through,
        tokens: 4,
        model: None,
        created_at: 6.0,
        rolls_up: None,
    }
}

fn contents(ms: &[Message]) -> Vec<String> {
    ms.iter().map(|m| m.content.clone()).collect()
}

fn seqs(ms: &[Message]) -> Vec<u64> {
    ms.iter().map(|m| m.seq).collect()
}

async fn ids(store: &dyn Store) -> Vec<String> {
    let mut ids: Vec<String> = store
        .list_sessions()
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.sort();
    ids
}

pub async fn sessions_are_created_read_listed_and_deleted(b: &Backend) {
    let store = (b.open)().await;
    assert_eq!(store.get_session("a").await.unwrap(), None, "{}", b.name);
    assert!(store.list_sessions().await.unwrap().is_empty());
    let mut a = session("a");
    store.put_session(&a).await.unwrap();
    store.put_session(&session("b")).await.unwrap();
    assert_eq!(store.get_session("a").await.unwrap(), Some(a.clone()));
    assert_eq!(ids(&*store).await, ["a", "b"]);

    a.title = None;
    a.updated_at += 10.0;
    store.put_session(&a).await.unwrap();
    assert_eq!(store.get_session("a").await.unwrap(), Some(a.clone()));
    assert_eq!(ids(&*store).await, ["a", "b"], "a put replaces");

    append(&*store, &mut a, "hello").await;
    store.put_run(&run("a", "run-1")).await.unwrap();
    store.put_summary(&summary("a", "sum-1", 0)).await.unwrap();
    store.delete_session("a").await.unwrap();
    store.delete_session("a").await.unwrap();
    store.delete_session("never").await.unwrap();
    assert_eq!(store.get_session("a").await.unwrap(), None);
    assert_eq!(ids(&*store).await, ["b"]);
    // Nothing of the deleted session comes back under the same id.
    store.put_session(&session("a")).await.unwrap();
    assert!(store
        .get_messages("a", MessageQuery::all())
        .await
        .unwrap()
        .is_empty());
    assert!(store.get_runs("a").await.unwrap().is_empty());
    assert!(store.get_summaries("a").await.unwrap().is_empty());
}

pub async fn messages_append_read_in_order_and_replace_by_seq(b: &Backend) {
    let store = (b.open)().await;
    let mut s = session("chat");
    store.put_session(&s).await.unwrap();
    for i in 0..7 {
        append(&*store, &mut s, &format!("m{i}")).await;
    }
    let all = store
        .get_messages("chat", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(
        contents(&all),
        ["m0", "m1", "m2", "m3", "m4", "m5", "m6"],
        "{}",
        b.name
    );
    assert_eq!(
        all[3],
        message(
            &Session {
                next_seq: 3,
                ..s.clone()
            },
            "m3"
        )
    );
    let newest = store
        .get_messages("chat", MessageQuery::newest(3))
        .await
        .unwrap();
    assert_eq!(seqs(&newest), [4, 5, 6]);
    let window = MessageQuery {
        from_seq: Some(2),
        before_seq: Some(5),
        limit: None,
    };
    assert_eq!(
        seqs(&store.get_messages("chat", window).await.unwrap()),
        [2, 3, 4]
    );
    let window = MessageQuery {
        from_seq: Some(2),
        before_seq: Some(6),
        limit: Some(2),
    };
    assert_eq!(
        seqs(&store.get_messages("chat", window).await.unwrap()),
        [4, 5]
    );
    let empty = MessageQuery {
        from_seq: Some(5),
        before_seq: Some(5),
        limit: None,
    };
    assert!(store.get_messages("chat", empty).await.unwrap().is_empty());
    assert!(store
        .get_messages("chat", MessageQuery::newest(0))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .get_messages("chat", MessageQuery::newest(100))
            .await
            .unwrap()
            .len(),
        7
    );

    // A streamed reply is rewritten in place, with the session record.
    let mut grown = all[6].clone();
    grown.content = "m6, longer".into();
    grown.status = MessageStatus::Interrupted;
    s.updated_at += 1.0;
    store.put_message(&s, &grown).await.unwrap();
    let all = store
        .get_messages("chat", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[6], grown);
    assert_eq!(store.get_session("chat").await.unwrap(), Some(s.clone()));
    assert!(store
        .get_messages("nobody", MessageQuery::all())
        .await
        .unwrap()
        .is_empty());
}

pub async fn sessions_are_isolated_even_with_similar_ids(b: &Backend) {
    let store = (b.open)().await;
    let names = ["a", "a/b", "a%2Fb", "a/", "user:1", "ü 🙂"];
    let mut sessions: Vec<Session> = names.iter().map(|n| session(n)).collect();
    for s in sessions.iter_mut() {
        store.put_session(s).await.unwrap();
        let id = s.id.clone();
        append(&*store, s, &format!("from {id}")).await;
        store
            .put_run(&run(&id, &format!("run-{id}")))
            .await
            .unwrap();
    }
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(ids(&*store).await, expected, "{}", b.name);
    for s in &sessions {
        let h = store
            .get_messages(&s.id, MessageQuery::all())
            .await
            .unwrap();
        assert_eq!(contents(&h), [format!("from {}", s.id)]);
        let runs = store.get_runs(&s.id).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].id, format!("run-{}", s.id));
    }
    store.delete_session("a").await.unwrap();
    for s in &sessions[1..] {
        let h = store
            .get_messages(&s.id, MessageQuery::all())
            .await
            .unwrap();
        assert_eq!(h.len(), 1, "deleting \"a\" left {:?} alone", s.id);
        assert_eq!(store.get_runs(&s.id).await.unwrap().len(), 1);
    }
}

pub async fn reset_drops_messages_and_summaries_but_keeps_runs(b: &Backend) {
    let store = (b.open)().await;
    let mut s = session("r");
    store.put_session(&s).await.unwrap();
    for i in 0..4 {
        append(&*store, &mut s, &format!("old {i}")).await;
    }
    store.put_run(&run("r", "run-1")).await.unwrap();
    store.put_summary(&summary("r", "sum-1", 1)).await.unwrap();
    s.message_count = 0;
    s.updated_at += 1.0;
    store.clear_messages(&s).await.unwrap();
    assert_eq!(
        store.get_session("r").await.unwrap(),
        Some(s.clone()),
        "{}",
        b.name
    );
    assert!(store
        .get_messages("r", MessageQuery::all())
        .await
        .unwrap()
        .is_empty());
    assert!(store.get_summaries("r").await.unwrap().is_empty());
    assert_eq!(store.get_runs("r").await.unwrap().len(), 1);
    // Seqs keep growing after a reset, and only the new messages are read.
    append(&*store, &mut s, "new 0").await;
    append(&*store, &mut s, "new 1").await;
    let h = store.get_messages("r", MessageQuery::all()).await.unwrap();
    assert_eq!(seqs(&h), [4, 5]);
    assert_eq!(contents(&h), ["new 0", "new 1"]);
    let h = store
        .get_messages("r", MessageQuery::newest(10))
        .await
        .unwrap();
    assert_eq!(seqs(&h), [4, 5]);
}

pub async fn runs_keep_creation_order_and_upsert(b: &Backend) {
    let store = (b.open)().await;
    store.put_session(&session("s")).await.unwrap();
    // Same createdAt and ids that do not sort in creation order: order is insertion order.
    for id in ["run-c", "run-a", "run-b"] {
        store.put_run(&run("s", id)).await.unwrap();
    }
    let mut done = run("s", "run-a");
    done.status = RunStatus::Completed;
    done.usage.total_tokens = 150;
    done.duration_ms = Some(12.0);
    store.put_run(&done).await.unwrap();
    let runs = store.get_runs("s").await.unwrap();
    let order: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["run-c", "run-a", "run-b"], "{}", b.name);
    assert_eq!(runs[1], done);
    assert!(store.get_runs("other").await.unwrap().is_empty());
}

pub async fn summaries_keep_order_update_and_delete(b: &Backend) {
    let store = (b.open)().await;
    store.put_session(&session("s")).await.unwrap();
    store.put_summary(&summary("s", "sum-z", 3)).await.unwrap();
    store.put_summary(&summary("s", "sum-a", 7)).await.unwrap();
    let mut updated = summary("s", "sum-z", 4);
    updated.content = "rewritten".into();
    store.put_summary(&updated).await.unwrap();
    let got = store.get_summaries("s").await.unwrap();
    assert_eq!(
        got,
        vec![updated.clone(), summary("s", "sum-a", 7)],
        "{}",
        b.name
    );
    store.delete_summary("s", "sum-z").await.unwrap();
    store.delete_summary("s", "absent").await.unwrap();
    assert_eq!(
        store.get_summaries("s").await.unwrap(),
        vec![summary("s", "sum-a", 7)]
    );
    assert!(store.get_summaries("other").await.unwrap().is_empty());
}

pub async fn meta_values_round_trip(b: &Backend) {
    let store = (b.open)().await;
    assert_eq!(store.get_meta("schema").await.unwrap(), None, "{}", b.name);
    store.put_meta("schema", "1").await.unwrap();
    store.put_meta("enc/salt", "c2FsdA==").await.unwrap();
    store.put_meta("schema", "2").await.unwrap();
    assert_eq!(
        store.get_meta("schema").await.unwrap().as_deref(),
        Some("2")
    );
    assert_eq!(
        store.get_meta("enc/salt").await.unwrap().as_deref(),
        Some("c2FsdA==")
    );
    assert!(
        store.list_sessions().await.unwrap().is_empty(),
        "meta is not a session"
    );
}

pub async fn a_new_instance_sees_everything(b: &Backend) {
    let first = (b.open)().await;
    let mut s = session("kept");
    s.usage.total_tokens = 42;
    first.put_session(&s).await.unwrap();
    for i in 0..5 {
        append(&*first, &mut s, &format!("line {i}")).await;
    }
    let mut r = run("kept", "run-1");
    r.status = RunStatus::Completed;
    first.put_run(&r).await.unwrap();
    first
        .put_summary(&summary("kept", "sum-1", 2))
        .await
        .unwrap();
    first.put_meta("schema", "1").await.unwrap();
    let mut other = session("other");
    other.title = None;
    first.put_session(&other).await.unwrap();
    drop(first);

    let second = (b.open)().await;
    assert_eq!(
        second.get_session("kept").await.unwrap(),
        Some(s.clone()),
        "{}",
        b.name
    );
    assert_eq!(second.get_session("other").await.unwrap(), Some(other));
    assert_eq!(ids(&*second).await, ["kept", "other"]);
    let h = second
        .get_messages("kept", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(
        contents(&h),
        ["line 0", "line 1", "line 2", "line 3", "line 4"]
    );
    assert_eq!(second.get_runs("kept").await.unwrap(), vec![r]);
    assert_eq!(
        second.get_summaries("kept").await.unwrap(),
        vec![summary("kept", "sum-1", 2)]
    );
    assert_eq!(
        second.get_meta("schema").await.unwrap().as_deref(),
        Some("1")
    );
    // And it keeps going where the first left off.
    append(&*second, &mut s, "line 5").await;
    let third = (b.open)().await;
    let h = third
        .get_messages("kept", MessageQuery::newest(2))
        .await
        .unwrap();
    assert_eq!(contents(&h), ["line 4", "line 5"]);
}

pub const LONG_HISTORY: u64 = 10_000;

pub async fn ten_thousand_messages_read_newest_cheaply(b: &Backend) {
    let store = (b.open)().await;
    let mut s = session("long");
    store.put_session(&s).await.unwrap();
    for i in 0..LONG_HISTORY {
        append(&*store, &mut s, &format!("message {i}")).await;
    }
    let store = (b.open)().await;
    let newest = store
        .get_messages("long", MessageQuery::newest(20))
        .await
        .unwrap();
    assert_eq!(newest.len(), 20, "{}", b.name);
    assert_eq!(newest[0].seq, LONG_HISTORY - 20);
    assert_eq!(newest[19].content, format!("message {}", LONG_HISTORY - 1));
    let all = store
        .get_messages("long", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(all.len() as u64, LONG_HISTORY);
    assert!(all.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
    let listed = store.list_sessions().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].message_count, LONG_HISTORY);
}

/// With garbage in every session's first message, listing sessions and reading the newest
/// messages still work: neither reads a record it does not return.
pub async fn listing_and_windows_never_read_other_records(b: &Backend) {
    let Some(damage) = &b.damage else { return };
    let store = (b.open)().await;
    for id in ["x", "y", "z"] {
        let mut s = session(id);
        store.put_session(&s).await.unwrap();
        for i in 0..5 {
            append(&*store, &mut s, &format!("{id}{i}")).await;
        }
        damage(Damage::Message(id.to_owned(), 0)).await;
    }
    assert_eq!(ids(&*store).await, ["x", "y", "z"], "{}", b.name);
    let newest = store
        .get_messages("y", MessageQuery::newest(4))
        .await
        .unwrap();
    assert_eq!(contents(&newest), ["y1", "y2", "y3", "y4"]);
    let err = store
        .get_messages("y", MessageQuery::all())
        .await
        .expect_err("the damaged message is reported");
    assert_eq!(err.code, ErrorCode::StorageCorrupt);
    assert_eq!(err.session_id.as_deref(), Some("y"));
}

pub async fn a_damaged_session_is_reported_isolated_and_deletable(b: &Backend) {
    let Some(damage) = &b.damage else { return };
    let store = (b.open)().await;
    for id in ["good", "bad"] {
        let mut s = session(id);
        store.put_session(&s).await.unwrap();
        append(&*store, &mut s, "hello").await;
        store.put_run(&run(id, "run-1")).await.unwrap();
    }
    damage(Damage::Session("bad".into())).await;
    let err = store.get_session("bad").await.expect_err("damaged record");
    assert_eq!(err.code, ErrorCode::StorageCorrupt, "{}", b.name);
    assert_eq!(err.session_id.as_deref(), Some("bad"));
    assert!(err.message.contains("bad"), "{}", err.message);
    assert_eq!(ids(&*store).await, ["good"], "the others are listed");
    let h = store
        .get_messages("good", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(contents(&h), ["hello"]);
    store
        .delete_session("bad")
        .await
        .expect("a damaged session can be deleted");
    assert_eq!(store.get_session("bad").await.unwrap(), None);
    assert!(store.get_runs("bad").await.unwrap().is_empty());
    assert_eq!(store.get_runs("good").await.unwrap().len(), 1);
}

/// The message tree's fields (a message's `parentSeq`, a session's `headSeq` and `firstSeq`)
/// come back as written, from a new instance too; `write_messages` writes the record and removes
/// exactly the named `seq`s, leaving a gap the reads skip.
pub async fn a_tree_round_trips_and_truncation_deletes_only_what_it_names(b: &Backend) {
    use agent_sessions::core::model::Parent;
    let store = (b.open)().await;
    let mut s = linear(&*store, "tree", 3).await;
    // An alternative to m1 (parent m0), then a new root: written as an edit writes them.
    s.head_seq = Some(3);
    s.first_seq = Some(0);
    let mut alt = message(&s, "m3");
    alt.parent = Parent::Seq(0);
    s.next_seq = 4;
    s.message_count = 2;
    store.put_message(&s, &alt).await.unwrap();
    let mut root = message(&s, "m4");
    root.parent = Parent::Root;
    s.next_seq = 5;
    s.head_seq = Some(4);
    s.message_count = 1;
    store.put_message(&s, &root).await.unwrap();
    let again = (b.open)().await;
    let all = again
        .get_messages("tree", MessageQuery::all())
        .await
        .unwrap();
    let parents: Vec<Parent> = all.iter().map(|m| m.parent).collect();
    assert_eq!(
        parents,
        [
            Parent::Previous,
            Parent::Previous,
            Parent::Previous,
            Parent::Seq(0),
            Parent::Root
        ],
        "{}",
        b.name
    );
    let record = again.get_session("tree").await.unwrap().unwrap();
    assert_eq!(
        (record.head_seq, record.first_seq),
        (Some(4), Some(0)),
        "{}",
        b.name
    );
    assert_eq!(record, s, "{}", b.name);
    // Truncate after m0 on its branches: m1, m2 and m3 go (9 was never there).
    s.head_seq = Some(0);
    s.message_count = 1;
    store.write_messages(&s, &[1, 2, 3, 9], &[]).await.unwrap();
    let again = (b.open)().await;
    let left = again
        .get_messages("tree", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(seqs(&left), [0, 4], "{}", b.name);
    assert_eq!(
        seqs(
            &again
                .get_messages("tree", MessageQuery::newest(1))
                .await
                .unwrap()
        ),
        [4],
        "{}",
        b.name
    );
    assert_eq!(
        again.get_session("tree").await.unwrap().unwrap(),
        s,
        "{}",
        b.name
    );
}

/// `write_messages` (`addMessages`): deletions, new messages and the record in one write; a new
/// message at a `seq` another writer holds fails it with `SESSION_BUSY` and nothing changes.
pub async fn one_write_deletes_appends_and_refuses_a_taken_seq(b: &Backend) {
    use agent_sessions::core::model::Parent;
    let store = (b.open)().await;
    let mut s = linear(&*store, "batch", 3).await;
    // Truncate after m0 and continue there with two messages: one write.
    s.first_seq = Some(0);
    let mut m3 = message(&s, "m3");
    m3.parent = Parent::Seq(0);
    s.next_seq = 4;
    let mut m4 = message(&s, "m4");
    m4.parent = Parent::Seq(3);
    s.next_seq = 5;
    s.head_seq = Some(4);
    s.message_count = 3;
    s.metadata.insert("op".into(), json!("one"));
    store.write_messages(&s, &[1, 2], &[m3, m4]).await.unwrap();
    let again = (b.open)().await;
    let all = again
        .get_messages("batch", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(seqs(&all), [0, 3, 4], "{}", b.name);
    assert_eq!(all[2].parent, Parent::Seq(3), "{}", b.name);
    assert_eq!(
        again.get_session("batch").await.unwrap().unwrap(),
        s,
        "{}",
        b.name
    );
    // Another writer's message at seq 4: nothing of this write lands, not even the deletion.
    let mut next = s.clone();
    next.next_seq = 4;
    let mut theirs = message(&next, "not mine");
    theirs.id = "another-writer".into();
    next.next_seq = 5;
    let after = message(&next, "m5");
    next.next_seq = 6;
    next.head_seq = None;
    next.first_seq = None;
    next.message_count = 2;
    let err = store
        .write_messages(&next, &[0, 3], &[theirs, after])
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::SessionBusy, "{}", b.name);
    let again = (b.open)().await;
    let all = again
        .get_messages("batch", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(seqs(&all), [0, 3, 4], "{}", b.name);
    assert_eq!(all[2].id, "msg-batch-4", "{}", b.name);
    assert_eq!(
        again.get_session("batch").await.unwrap().unwrap(),
        s,
        "{}",
        b.name
    );
    // A clear and a new linear history after it.
    let fresh = message(&s, "fresh");
    s.next_seq = 6;
    s.head_seq = None;
    s.first_seq = None;
    s.message_count = 1;
    store
        .write_messages(&s, &[0, 3, 4], &[fresh])
        .await
        .unwrap();
    let again = (b.open)().await;
    let all = again
        .get_messages("batch", MessageQuery::all())
        .await
        .unwrap();
    assert_eq!(seqs(&all), [5], "{}", b.name);
    let newest = again
        .get_messages("batch", MessageQuery::newest(1))
        .await
        .unwrap();
    assert_eq!(seqs(&newest), [5], "{}", b.name);
    assert_eq!(
        again.get_session("batch").await.unwrap().unwrap(),
        s,
        "{}",
        b.name
    );
}
