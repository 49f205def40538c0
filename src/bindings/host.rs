//! Hooks a server runtime's entry installs at import (pkg/node.js): the host's own source of
//! random bytes for ids and jitter. (The SQL openers are `__setSqlOpeners`, in sql.rs.)

use wasm_bindgen::prelude::*;

/// `fill(bytes: Uint8Array)` fills `bytes` from the host's CSPRNG, or throws (then Web Crypto).
#[wasm_bindgen(js_name = __setRandomFill, skip_typescript)]
pub fn set_random_fill(fill: js_sys::Function) {
    crate::platform::random::set_host_fill(fill);
}
