//! The pure core: no wasm-bindgen, js-sys or web-sys here. Everything is tested with `cargo test`.

pub mod agent;
pub mod base64;
pub mod bundle;
pub mod cancel;
pub mod context;
pub mod error;
pub mod events;
pub mod ids;
pub mod io;
pub mod json;
pub mod llm;
pub mod manager;
pub mod message_validation;
pub mod metadata;
pub mod model;
pub mod peers;
pub mod preview;
pub mod record_json;
pub mod record_read;
pub mod sealed;
// The HTTP API's logic: only in the server build (and native tests), never in the browser module.
#[cfg(any(feature = "server", test))]
pub mod server;
pub mod sort;
pub mod store;
pub mod tree;
