//! agent-sessions: sessions for LLM agents — isolated conversation threads with working memory —
//! in browsers, web workers, Node and Cloudflare Workers.
//!
//! - [`core`]: pure logic (model, ids, context strategies, session manager, store trait, LLM codecs).
//! - `platform` (wasm32 only): fetch, IndexedDB, localStorage, host KV, clock, randomness.
//! - `bindings` (wasm32 only): the `#[wasm_bindgen]` exports and their TypeScript types.
//!
//! Dependencies point one way: `bindings -> platform -> core`.

// A panic in wasm aborts the whole instance (every session of the page with it): outside tests,
// a failure is a typed `Error`, and the few places that truly cannot fail say why in an `allow`.
// No `{:?}` either: the wasm modules are built with `-Zfmt-debug=none` (scripts/build), so a
// Debug-formatted value would print as nothing; messages quote through `core::json::quote`.
// `clippy::use_debug` sees only `write!`/`print!`; scripts/no-debug-format.mjs (a lint gate)
// finds the rest (`format!`, `panic!`, …).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::use_debug
    )
)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod platform;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
pub mod bindings;
