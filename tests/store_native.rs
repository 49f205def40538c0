//! The storage conformance suite natively: the memory store, and the KV store over a `BTreeMap`
//! (the layout localStorage and host key-value stores share).

#[macro_use]
mod store_contract;

use std::rc::Rc;

use agent_sessions::core::store::kv::keys;
use agent_sessions::core::store::{KvStore, MemoryKv, MemoryStore, Store};
use futures_util::FutureExt;
use store_contract::{Backend, Damage};

async fn memory() -> Backend {
    // One store: "a new instance over the same storage" is the same instance for memory.
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    Backend {
        name: "memory".into(),
        open: Box::new(move || {
            let s = store.clone();
            async move { s }.boxed_local()
        }),
        damage: None,
    }
}

async fn btree_kv() -> Backend {
    let kv = MemoryKv::new();
    let raw = kv.clone();
    Backend {
        name: "kv over a BTreeMap".into(),
        open: Box::new(move || {
            let kv = kv.clone();
            async move { Rc::new(KvStore::new(kv, "test/")) as Rc<dyn Store> }.boxed_local()
        }),
        damage: Some(Box::new(move |d| {
            let key = match d {
                Damage::Session(id) => keys::session("test/", &id),
                Damage::Message(id, seq) => keys::message("test/", &id, seq),
            };
            raw.set_raw(&key, "{not json");
            async {}.boxed_local()
        })),
    }
}

store_contract!(memory_store, memory, native);
store_contract!(kv_store, btree_kv, native);
