//! Bindings in Node: `wasm-pack test --node`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;

use wasm_bindgen_test::*;

bindings_suite!();
