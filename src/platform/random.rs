use std::cell::RefCell;

use crate::core::io::RandomSource;

/// How many bytes one `crypto.getRandomValues` call fetches ahead (4 KB: 341 ids). An id needs 12 and a call
/// costs microseconds in Node (argument checks, a typed array, a copy into wasm memory), which
/// was a fifth of an append over memory storage when each id made its own call.
const POOL: usize = 4096;

/// `crypto.getRandomValues` through getrandom's `wasm_js` backend (browsers, workers, Node ≥ 19,
/// workerd all expose `globalThis.crypto`), fetched `POOL` bytes at a time; every byte is handed
/// out once. (Keys, salts and IVs do not come from here: `crypto.rs` asks getrandom for each.)
pub struct CryptoRandom {
    pool: RefCell<Pool>,
}

struct Pool {
    bytes: Box<[u8; POOL]>,
    /// Bytes before this index have been handed out.
    used: usize,
}

impl CryptoRandom {
    pub fn new() -> CryptoRandom {
        CryptoRandom {
            pool: RefCell::new(Pool {
                bytes: Box::new([0; POOL]),
                used: POOL,
            }),
        }
    }
}

impl Default for CryptoRandom {
    fn default() -> Self {
        CryptoRandom::new()
    }
}

fn fill_now(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // No Web Crypto at all: ids must still be unique within this instance, so fall back
        // to Math.random, which every runtime has. Never panic across the boundary.
        for b in buf.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
}

impl RandomSource for CryptoRandom {
    fn fill(&self, buf: &mut [u8]) {
        let Ok(mut pool) = self.pool.try_borrow_mut() else {
            return fill_now(buf);
        };
        if buf.len() > POOL / 4 {
            return fill_now(buf);
        }
        if POOL - pool.used < buf.len() {
            fill_now(&mut pool.bytes[..]);
            pool.used = 0;
        }
        let start = pool.used;
        buf.copy_from_slice(&pool.bytes[start..start + buf.len()]);
        pool.used += buf.len();
    }
}
