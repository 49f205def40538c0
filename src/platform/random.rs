use std::cell::RefCell;

use crate::core::io::RandomSource;

/// How many bytes one `crypto.getRandomValues` call fetches ahead (4 KB: 341 ids). An id needs 12 and a call
/// costs microseconds in Node (argument checks, a typed array, a copy into wasm memory), which
/// was a fifth of an append over memory storage when each id made its own call.
const POOL: usize = 4096;

/// `crypto.getRandomValues` through getrandom's `wasm_js` backend (browsers, workers, Node ≥ 19,
/// workerd all expose `globalThis.crypto`), or the host's own source where its entry installed
/// one (Node: /dev/urandom, see `HOST`), fetched `POOL` bytes at a time; every byte is handed
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

#[cfg(feature = "sql")]
thread_local! {
    /// The source the host's entry installed (`__setRandomFill`): the Node entry's reads of
    /// /dev/urandom. Node loads its whole Web Crypto implementation at the first touch of
    /// `globalThis.crypto` (~3–6 ms on Node 24: most of a first `create()` with a generated id),
    /// while a read of the kernel's CSPRNG through node:fs, which that entry has loaded already,
    /// takes ~0.05 ms.
    static HOST: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Installs the host's source of random bytes: `fill(bytes: Uint8Array)` fills `bytes` or throws.
#[cfg(feature = "sql")]
pub fn set_host_fill(fill: js_sys::Function) {
    HOST.with(|h| *h.borrow_mut() = Some(fill));
}

/// `buf` filled by the host's source, if one is installed and it did not throw.
#[cfg(feature = "sql")]
fn from_host(buf: &mut [u8]) -> bool {
    let Some(fill) = HOST.with(|h| h.borrow().clone()) else {
        return false;
    };
    let bytes = js_sys::Uint8Array::new_with_length(buf.len() as u32);
    if fill
        .call1(&wasm_bindgen::JsValue::UNDEFINED, &bytes)
        .is_err()
    {
        return false;
    }
    bytes.copy_to(buf);
    true
}

#[cfg(not(feature = "sql"))]
fn from_host(_buf: &mut [u8]) -> bool {
    false
}

fn fill_now(buf: &mut [u8]) {
    if !from_host(buf) && getrandom::fill(buf).is_err() {
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
