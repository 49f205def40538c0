use crate::core::io::RandomSource;

/// `crypto.getRandomValues` through getrandom's `wasm_js` backend (browsers, workers, Node ≥ 19,
/// workerd all expose `globalThis.crypto`).
pub struct CryptoRandom;

impl RandomSource for CryptoRandom {
    fn fill(&self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            // No Web Crypto at all: ids must still be unique within this instance, so fall back
            // to Math.random, which every runtime has. Never panic across the boundary.
            for b in buf.iter_mut() {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
    }
}
