//! Bindings in headless browsers: `wasm-pack test --headless --chrome --firefox`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

bindings_suite!();
