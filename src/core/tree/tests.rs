//! The tree against a reference model: random appends, edits, regenerations, switches, rewinds,
//! truncations and forks through the session manager, over the memory store and a key-value
//! store (whose reads depend on the record's `firstSeq` once truncation leaves gaps). After every
//! step the active history equals the model's active path, every message is stored exactly once,
//! every branch is reachable, and the context builder sends exactly the active path.

use std::cell::Cell;
use std::rc::Rc;

use futures_executor::block_on;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::core::context::build::{build, Inputs, SummaryChoice};
use crate::core::context::{ContextConfig, Strategy as ContextStrategy};
use crate::core::error::ErrorCode;
use crate::core::ids::testing::SeqRandom;
use crate::core::io::Clock;
use crate::core::manager::{EditOptions, ForkOptions, ManagerConfig, SessionManager};
use crate::core::model::{Millis, NewMessage, Role};
use crate::core::store::{KvStore, MemoryKv, MemoryStore};

struct Ticks(Cell<f64>);

impl Clock for Ticks {
    fn now_ms(&self) -> Millis {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

fn manager(store: Rc<dyn Store>) -> SessionManager {
    SessionManager::new(
        store,
        Rc::new(Ticks(Cell::new(1_700_000_000_000.0))),
        Rc::new(SeqRandom::new(7)),
        ManagerConfig::default(),
    )
}

fn new_message(role: Role, text: &str) -> NewMessage {
    NewMessage {
        role: role.as_str().into(),
        content: Some(json!(text)),
        ..NewMessage::default()
    }
}

fn edit(text: &str) -> EditOptions {
    EditOptions {
        content: Some(json!(text)),
        ..EditOptions::default()
    }
}

fn contents(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.content.clone()).collect()
}

#[test]
fn a_session_without_edits_writes_no_tree_fields() {
    block_on(async {
        let kv = MemoryKv::new();
        let m = manager(Rc::new(KvStore::new(kv.clone(), "t/")));
        m.create(Some("s"), Default::default()).await.unwrap();
        m.add_message("s", new_message(Role::User, "hi"))
            .await
            .unwrap();
        m.add_message("s", new_message(Role::Assistant, "hello"))
            .await
            .unwrap();
        for (k, v) in kv.entries() {
            assert!(
                !v.contains("parentSeq") && !v.contains("headSeq"),
                "{k}: {v}"
            );
        }
        let s = m.require("s").await.unwrap();
        assert!(!s.is_tree());
    });
}

#[test]
fn edit_regenerate_switch_and_rewind_keep_every_branch() {
    block_on(async {
        let m = manager(Rc::new(MemoryStore::new()));
        m.create(Some("s"), Default::default()).await.unwrap();
        let q1 = m
            .add_message("s", new_message(Role::User, "q1"))
            .await
            .unwrap();
        let a1 = m
            .add_message("s", new_message(Role::Assistant, "a1"))
            .await
            .unwrap();
        // Edit the question: a new alternative, active; the old answer stays on the old branch.
        let taken = EditOptions {
            id: Some(a1.id.clone()),
            ..edit("x")
        };
        let e = m.edit_message("s", &q1.id, taken).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMessage);
        let mine = EditOptions {
            id: Some("q1b".into()),
            ..edit("q1 edited")
        };
        let q1b = m.edit_message("s", &q1.id, mine).await.unwrap();
        assert_eq!(q1b.id, "q1b");
        assert_eq!(q1b.parent, Parent::Root);
        assert_eq!(
            contents(&m.history("s", None).await.unwrap()),
            ["q1 edited"]
        );
        let a1b = m
            .add_message("s", new_message(Role::Assistant, "a1b"))
            .await
            .unwrap();
        assert_eq!(a1b.parent, Parent::Seq(q1b.seq));
        assert_eq!(
            contents(&m.branches("s", &q1.id).await.unwrap()),
            ["q1", "q1 edited"]
        );
        // Switch back: the old branch down to its newest message.
        let now = m.switch_branch("s", &q1.id).await.unwrap();
        assert_eq!(contents(&now), ["q1", "a1"]);
        assert_eq!(m.require("s").await.unwrap().message_count, 2);
        assert_eq!(contents(&m.history("s", None).await.unwrap()), ["q1", "a1"]);
        // Regenerate the answer to q1: the user message becomes the leaf, the reply a sibling.
        {
            let _g = m.lock("s").await;
            m.regenerate_from_locked("s", Some(&a1.id)).await.unwrap();
        }
        m.add_message("s", new_message(Role::Assistant, "a1c"))
            .await
            .unwrap();
        assert_eq!(
            contents(&m.history("s", None).await.unwrap()),
            ["q1", "a1c"]
        );
        assert_eq!(
            contents(&m.branches("s", &a1.id).await.unwrap()),
            ["a1", "a1c"]
        );
        // The other branch, read without switching.
        assert_eq!(
            contents(&m.branch_history("s", &q1b.id).await.unwrap()),
            ["q1 edited", "a1b"]
        );
        // Rewind keeps what followed reachable.
        m.rewind("s", &q1.id).await.unwrap();
        assert_eq!(contents(&m.history("s", None).await.unwrap()), ["q1"]);
        m.switch_branch("s", &a1.id).await.unwrap();
        assert_eq!(contents(&m.history("s", None).await.unwrap()), ["q1", "a1"]);
        // Unknown ids are typed errors that change nothing.
        let e = m.switch_branch("s", "msg_nope").await.unwrap_err();
        assert_eq!(e.code, ErrorCode::MessageNotFound);
        assert_eq!(contents(&m.history("s", None).await.unwrap()), ["q1", "a1"]);
        // Reset makes it a plain session again.
        m.reset("s").await.unwrap();
        assert!(!m.require("s").await.unwrap().is_tree());
    });
}

#[test]
fn upsert_replaces_in_place_or_appends_and_truncate_deletes_below() {
    block_on(async {
        let kv = MemoryKv::new();
        let m = manager(Rc::new(KvStore::new(kv.clone(), "t/")));
        m.create(Some("s"), Default::default()).await.unwrap();
        let mut a = new_message(Role::User, "one");
        a.id = Some("u1".into());
        let first = m.upsert_message("s", a.clone()).await.unwrap();
        let mut b = new_message(Role::Assistant, "partial");
        b.id = Some("a1".into());
        m.upsert_message("s", b.clone()).await.unwrap();
        b.content = Some(json!("partial, then whole"));
        let again = m.upsert_message("s", b).await.unwrap();
        assert_eq!(again.seq, 1);
        let s = m.require("s").await.unwrap();
        assert!(!s.is_tree(), "an upsert in place makes no branch");
        assert_eq!(
            contents(&m.history("s", None).await.unwrap()),
            ["one", "partial, then whole"]
        );
        let missing = NewMessage {
            id: None,
            ..new_message(Role::User, "x")
        };
        assert_eq!(
            m.upsert_message("s", missing).await.unwrap_err().code,
            ErrorCode::InvalidMessage
        );
        // Truncate after the first: the answer is gone from storage, and appends follow.
        assert_eq!(m.truncate_after("s", &first.id).await.unwrap(), 1);
        assert_eq!(contents(&m.history("s", None).await.unwrap()), ["one"]);
        assert_eq!(
            kv.entries()
                .iter()
                .filter(|(k, _)| k.contains("/m/"))
                .count(),
            1
        );
        m.add_message("s", new_message(Role::Assistant, "two"))
            .await
            .unwrap();
        // A new store instance over the same storage reads the same (the range has a gap).
        let m2 = manager(Rc::new(KvStore::new(kv.clone(), "t/")));
        assert_eq!(
            contents(&m2.history("s", None).await.unwrap()),
            ["one", "two"]
        );
        assert_eq!(m2.require("s").await.unwrap().message_count, 2);
    });
}

#[test]
fn fork_copies_the_active_path_into_a_linear_session() {
    block_on(async {
        let m = manager(Rc::new(MemoryStore::new()));
        m.create(Some("s"), Default::default()).await.unwrap();
        m.update(
            "s",
            crate::core::manager::UpdateOptions {
                title: Some(Some("Trip".into())),
                metadata: Some(json!({"tier": "pro"})),
            },
        )
        .await
        .unwrap();
        let q = m
            .add_message("s", new_message(Role::User, "q"))
            .await
            .unwrap();
        m.add_message("s", new_message(Role::Assistant, "a"))
            .await
            .unwrap();
        m.edit_message("s", &q.id, edit("q2")).await.unwrap();
        let f = m.fork_session("s", ForkOptions::default()).await.unwrap();
        assert_eq!(f.title.as_deref(), Some("Fork: Trip"));
        assert_eq!(f.metadata["tier"], "pro");
        assert!(!f.is_tree());
        assert_eq!(contents(&m.history(&f.id, None).await.unwrap()), ["q2"]);
        let at = ForkOptions {
            at_message_id: m
                .history("s", None)
                .await
                .unwrap()
                .first()
                .map(|x| x.id.clone()),
            id: Some("copy".into()),
            title: Some("Mine".into()),
        };
        let g = m.fork_session("s", at.clone()).await.unwrap();
        assert_eq!((g.id.as_str(), g.title.as_deref()), ("copy", Some("Mine")));
        assert_eq!(
            m.fork_session("s", at).await.unwrap_err().code,
            ErrorCode::SessionExists
        );
        // The fork shares nothing: writing to it leaves the source alone.
        m.add_message("copy", new_message(Role::Assistant, "x"))
            .await
            .unwrap();
        assert_eq!(contents(&m.history("s", None).await.unwrap()), ["q2"]);
    });
}

#[test]
fn summaries_apply_only_on_the_branch_they_cover() {
    block_on(async {
        let store = Rc::new(MemoryStore::new());
        let m = manager(store.clone());
        m.create(Some("s"), Default::default()).await.unwrap();
        let q = m
            .add_message("s", new_message(Role::User, "q"))
            .await
            .unwrap();
        let a = m
            .add_message("s", new_message(Role::Assistant, "a"))
            .await
            .unwrap();
        let summary = Summary {
            id: "sum_1".into(),
            session_id: "s".into(),
            content: "they talked".into(),
            covers: vec![q.id.clone(), a.id.clone()],
            rolls_up: None,
            through_seq: a.seq,
            tokens: 3,
            model: None,
            created_at: 1.0,
        };
        store.put_summary(&summary).await.unwrap();
        m.add_message("s", new_message(Role::User, "q3"))
            .await
            .unwrap();
        let with = sent_with_summary(&m).await;
        assert!(with[0].contains("they talked"), "{with:?}");
        // Edit the first question: the summary covers a branch that is no longer active.
        m.edit_message("s", &q.id, edit("other")).await.unwrap();
        assert_eq!(sent_with_summary(&m).await, ["other"]);
        m.switch_branch("s", &a.id).await.unwrap();
        let back = sent_with_summary(&m).await;
        assert!(back[0].contains("they talked"), "{back:?}");
    });
}

#[test]
fn a_version_2_bundle_carries_the_tree_and_version_1_still_imports() {
    block_on(async {
        let m = manager(Rc::new(MemoryStore::new()));
        m.create(Some("s"), Default::default()).await.unwrap();
        let q = m
            .add_message("s", new_message(Role::User, "q"))
            .await
            .unwrap();
        m.add_message("s", new_message(Role::Assistant, "a"))
            .await
            .unwrap();
        m.edit_message("s", &q.id, edit("q2")).await.unwrap();
        let bundle = m.export("s").await.unwrap();
        assert_eq!(bundle.version, 2);
        assert_eq!(bundle.messages.len(), 3);
        let text = serde_json::to_string(&bundle).unwrap();
        let back: crate::core::bundle::Bundle = crate::core::json::from_str(&text).unwrap();
        let opts = crate::core::manager::ImportOptions {
            id: Some("t".into()),
            overwrite: false,
        };
        m.import(back, opts).await.unwrap();
        assert_eq!(contents(&m.history("t", None).await.unwrap()), ["q2"]);
        assert_eq!(
            contents(&m.branches("t", &q.id).await.unwrap()),
            ["q", "q2"]
        );
        // A version 1 bundle: linear, as it always was; one naming a parent is refused.
        let mut v1: serde_json::Value = serde_json::from_str(&text).unwrap();
        v1["version"] = json!(1);
        let msgs = v1["messages"].as_array_mut().unwrap();
        msgs.truncate(2);
        v1["session"].as_object_mut().unwrap().remove("headSeq");
        let linear: crate::core::bundle::Bundle =
            crate::core::json::from_str(&v1.to_string()).unwrap();
        let opts = crate::core::manager::ImportOptions {
            id: Some("u".into()),
            overwrite: false,
        };
        m.import(linear, opts).await.unwrap();
        assert_eq!(contents(&m.history("u", None).await.unwrap()), ["q", "a"]);
        let mut bad = v1.clone();
        bad["messages"][1]["parentSeq"] = json!(null);
        let bad: crate::core::bundle::Bundle =
            crate::core::json::from_str(&bad.to_string()).unwrap();
        let opts = crate::core::manager::ImportOptions {
            id: Some("w".into()),
            overwrite: false,
        };
        assert_eq!(
            m.import(bad, opts).await.unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    });
}

/// What `summary_buffer` (far under its budget) sends for session "s".
async fn sent_with_summary(m: &SessionManager) -> Vec<String> {
    let session = m.require("s").await.unwrap();
    let inputs = Inputs {
        config: ContextConfig {
            strategy: crate::core::context::Strategy::SummaryBuffer {
                budget: 100_000,
                threshold: 0.9,
                target: 0.5,
            },
            max_messages: None,
        },
        fixed_tokens: 0,
        user_first: false,
        pending: None,
        summary: SummaryChoice::Stored,
    };
    let built = build(&**m.store(), &session, &inputs).await.unwrap();
    contents(&built.messages)
}

/// The reference model: every message ever written, its parent, whether it is still stored.
#[derive(Default)]
struct Model {
    nodes: Vec<(Option<usize>, bool, String, Role)>,
    head: Option<usize>,
}

impl Model {
    fn path(&self) -> Vec<usize> {
        let mut p = Vec::new();
        let mut at = self.head;
        while let Some(i) = at {
            p.push(i);
            at = self.nodes[i].0;
        }
        p.reverse();
        p
    }

    fn descends(&self, mut i: usize, from: usize) -> bool {
        loop {
            if i == from {
                return true;
            }
            match self.nodes[i].0 {
                Some(p) => i = p,
                None => return false,
            }
        }
    }

    fn alive(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].1).collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(bool),
    Edit(usize),
    Regenerate,
    Switch(usize),
    Rewind(usize),
    Truncate(usize),
    Fork(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Append),
        2 => any::<usize>().prop_map(Op::Edit),
        1 => Just(Op::Regenerate),
        2 => any::<usize>().prop_map(Op::Switch),
        1 => any::<usize>().prop_map(Op::Rewind),
        1 => any::<usize>().prop_map(Op::Truncate),
        1 => any::<usize>().prop_map(Op::Fork),
    ]
}

fn run_ops(store: Rc<dyn Store>, ops: &[Op]) -> std::result::Result<(), TestCaseError> {
    block_on(async {
        let m = manager(store);
        m.create(Some("s"), Default::default()).await.unwrap();
        let mut model = Model::default();
        let mut ids: Vec<String> = Vec::new();
        let mut forks = 0;
        for (n, op) in ops.iter().enumerate() {
            let path = model.path();
            let text = format!("m{n}");
            match *op {
                Op::Append(user) => {
                    let role = if user { Role::User } else { Role::Assistant };
                    let msg = m.add_message("s", new_message(role, &text)).await.unwrap();
                    model.nodes.push((model.head, true, text, role));
                    model.head = Some(model.nodes.len() - 1);
                    ids.push(msg.id);
                }
                Op::Edit(k) if !path.is_empty() => {
                    let target = path[k % path.len()];
                    let msg = m
                        .edit_message("s", &ids[target], edit(&text))
                        .await
                        .unwrap();
                    let (parent, role) = (model.nodes[target].0, model.nodes[target].3);
                    model.nodes.push((parent, true, text, role));
                    model.head = Some(model.nodes.len() - 1);
                    ids.push(msg.id);
                }
                Op::Regenerate => {
                    let user = path.iter().rev().find(|&&i| model.nodes[i].3 == Role::User);
                    let result = {
                        let _g = m.lock("s").await;
                        m.regenerate_from_locked("s", None).await
                    };
                    match user {
                        None => {
                            prop_assert_eq!(result.unwrap_err().code, ErrorCode::InvalidArgument)
                        }
                        Some(&u) => {
                            result.unwrap();
                            model.head = Some(u);
                            let reply = new_message(Role::Assistant, &text);
                            let msg = m.add_message("s", reply).await.unwrap();
                            model.nodes.push((Some(u), true, text, Role::Assistant));
                            model.head = Some(model.nodes.len() - 1);
                            ids.push(msg.id);
                        }
                    }
                }
                Op::Switch(k) => {
                    let alive = model.alive();
                    if alive.is_empty() {
                        continue;
                    }
                    let target = alive[k % alive.len()];
                    m.switch_branch("s", &ids[target]).await.unwrap();
                    let leaf = alive
                        .iter()
                        .copied()
                        .filter(|&i| model.descends(i, target))
                        .max();
                    model.head = leaf;
                }
                Op::Rewind(k) if !path.is_empty() => {
                    let target = path[k % path.len()];
                    m.rewind("s", &ids[target]).await.unwrap();
                    model.head = Some(target);
                }
                Op::Truncate(k) if !path.is_empty() => {
                    let target = path[k % path.len()];
                    let removed = m.truncate_after("s", &ids[target]).await.unwrap();
                    let mut count = 0;
                    for i in 0..model.nodes.len() {
                        if i != target && model.nodes[i].1 && model.descends(i, target) {
                            model.nodes[i].1 = false;
                            count += 1;
                        }
                    }
                    prop_assert_eq!(removed, count);
                    model.head = Some(target);
                }
                Op::Fork(k) if !path.is_empty() => {
                    let cut = k % path.len();
                    forks += 1;
                    let opts = ForkOptions {
                        at_message_id: Some(ids[path[cut]].clone()),
                        id: Some(format!("fork-{forks}")),
                        title: None,
                    };
                    let f = m.fork_session("s", opts).await.unwrap();
                    let got = contents(&m.history(&f.id, None).await.unwrap());
                    let want: Vec<String> = path[..=cut]
                        .iter()
                        .map(|&i| model.nodes[i].2.clone())
                        .collect();
                    prop_assert_eq!(got, want);
                }
                _ => {}
            }
            // The active history is the model's active path, counted by the record.
            let want: Vec<String> = model
                .path()
                .iter()
                .map(|&i| model.nodes[i].2.clone())
                .collect();
            let history = m.history("s", None).await.unwrap();
            prop_assert_eq!(contents(&history), want.clone(), "after {:?}", op);
            let session = m.require("s").await.unwrap();
            prop_assert_eq!(session.message_count as usize, want.len());
            let newest = m.history("s", Some(2)).await.unwrap();
            prop_assert_eq!(
                contents(&newest),
                want[want.len().saturating_sub(2)..].to_vec()
            );
            // Every stored message exactly once, and nothing that was deleted.
            let all = all_messages(&**m.store(), "s").await.unwrap();
            let mut stored: Vec<String> = all.iter().map(|x| x.content.clone()).collect();
            stored.sort();
            let mut alive: Vec<String> = model
                .alive()
                .iter()
                .map(|&i| model.nodes[i].2.clone())
                .collect();
            alive.sort();
            prop_assert_eq!(stored, alive);
            // The context builder sends the active path, whole, under `full`.
            let inputs = Inputs {
                config: ContextConfig::default(),
                fixed_tokens: 0,
                user_first: false,
                pending: None,
                summary: SummaryChoice::Stored,
            };
            let built = build(&**m.store(), &session, &inputs).await.unwrap();
            prop_assert_eq!(contents(&built.messages), want.clone());
            // Every strategy sends on a branch what it sends on that path as a plain session.
            if !want.is_empty() {
                let copy = ForkOptions {
                    id: Some("copy".into()),
                    ..ForkOptions::default()
                };
                let linear = m.fork_session("s", copy).await.unwrap();
                for strategy in [
                    ContextStrategy::BufferWindow { window_size: 3 },
                    ContextStrategy::TokenWindow { budget: 40 },
                ] {
                    let inputs = Inputs {
                        config: ContextConfig {
                            strategy,
                            max_messages: None,
                        },
                        ..inputs.clone()
                    };
                    let on_branch = build(&**m.store(), &session, &inputs).await;
                    let on_copy = build(&**m.store(), &linear, &inputs).await;
                    match (on_branch, on_copy) {
                        (Ok(a), Ok(b)) => {
                            prop_assert_eq!(contents(&a.messages), contents(&b.messages))
                        }
                        (Err(a), Err(b)) => prop_assert_eq!(a.code, b.code),
                        (a, b) => prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
                    }
                }
                m.delete("copy").await.unwrap();
            }
        }
        // Every branch stays reachable: each stored message is on the branch through itself.
        for i in model.alive() {
            let branch = m.branch_history("s", &ids[i]).await.unwrap();
            prop_assert!(branch.iter().any(|x| x.id == ids[i]));
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_tree_follows_the_model_in_memory(ops in proptest::collection::vec(op(), 1..40)) {
        run_ops(Rc::new(MemoryStore::new()), &ops)?;
    }

    #[test]
    fn the_tree_follows_the_model_over_key_value_records(ops in proptest::collection::vec(op(), 1..40)) {
        run_ops(Rc::new(KvStore::new(MemoryKv::new(), "p/")), &ops)?;
    }
}

#[test]
fn reading_alternatives_does_not_wait_for_a_writer() {
    block_on(async {
        let m = manager(Rc::new(MemoryStore::new()));
        m.create(Some("s"), Default::default()).await.unwrap();
        let q = m
            .add_message("s", new_message(Role::User, "q"))
            .await
            .unwrap();
        let _held = m.lock("s").await;
        use futures_util::FutureExt;
        let read = m.branches("s", &q.id).now_or_never();
        assert!(read.is_some(), "getBranches waited for the session's lock");
        assert!(m.branch_history("s", &q.id).now_or_never().is_some());
    });
}
