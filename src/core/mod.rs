//! The pure core: no wasm-bindgen, js-sys or web-sys here. Everything is tested with `cargo test`.

pub mod error;
pub mod model;
