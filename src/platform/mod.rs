//! The thin layer over the JavaScript host: time, randomness, fetch, timers, abort signals, and
//! the storage backends (IndexedDB, localStorage, a host key-value store). Globals are reached
//! through `globalThis` and feature-detected, so the same module runs in a page, a web worker,
//! Node and workerd.

pub mod abort;
pub mod clock;
pub mod crypto;
pub mod fetch;
pub mod host_kv;
pub mod indexed_db;
pub mod local_storage;
pub mod peers;
pub mod random;
pub mod sql_host;
pub mod storage_error;
pub mod timer;
pub mod wake;
