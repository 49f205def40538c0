//! The thin layer over the JavaScript host: time and randomness now; fetch, IndexedDB,
//! localStorage and host KV stores as they come. Globals are reached through `globalThis` and
//! feature-detected, so the same module runs in a page, a web worker, Node and workerd.

pub mod abort;
pub mod clock;
pub mod crypto;
pub mod fetch;
pub mod peers;
pub mod random;
pub mod timer;
pub mod wake;
