//! What the core needs from its host, as traits, in one place: a port to a new host implements
//! these and nothing else. The platform layer (wasm32) implements them over JavaScript; native
//! tests implement them with fakes. Futures are not `Send` (JavaScript is single-threaded).
//!
//! | trait | what it gives the core | implemented in `platform/` |
//! |---|---|---|
//! | [`Clock`] | wall-clock milliseconds | `clock.rs` (`JsClock`: `Date.now()`) |
//! | [`RandomSource`] | random bytes (ids, backoff jitter) | `random.rs` (`CryptoRandom`: `crypto.getRandomValues`, or /dev/urandom where the Node entry installs it; 4 KB at a time) |
//! | [`HttpClient`], [`ByteStream`] | a request, its response body chunk by chunk | `fetch.rs` (`FetchClient`, `FetchBody`: `fetch`) |
//! | [`Timer`] | a cancellable sleep | `timer.rs` (`JsTimer`: `setTimeout`) |
//! | [`CancelSignal`] | the caller's cancellation | `abort.rs` (`JsAbortSignal`: `AbortSignal`); the core's own in [`crate::core::cancel`] |
//! | [`Cipher`] | authenticated encryption at rest | `crypto.rs` (`WebCryptoCipher`: WebCrypto AES-GCM) |
//! | [`KvBackend`] | a string key-value store | `local_storage.rs` (`LocalStorageKv`), `host_kv.rs` (`HostKv`: Durable Object storage, Workers KV) |
//! | [`Peers`] | a lock and a broadcast shared with other tabs and workers | `peers.rs` (`BrowserPeers`: Web Locks, BroadcastChannel) |
//! | [`Store`](crate::core::store::Store) | whole-record storage (defined with its query types in [`crate::core::store`]) | `indexed_db.rs` (`IndexedDbStore`); the core has `MemoryStore`, `KvStore` over a [`KvBackend`], `SealedStore` |

use std::any::Any;

use async_trait::async_trait;
use futures_util::future::{join_all, LocalBoxFuture};

use crate::core::error::Result;
use crate::core::events::Event;
use crate::core::llm::HttpRequest;
use crate::core::model::Millis;

/// Wall-clock time, supplied by the platform (`Date.now()` in wasm).
pub trait Clock {
    fn now_ms(&self) -> Millis;
}

/// Randomness supplied by the platform (`crypto.getRandomValues` in wasm).
pub trait RandomSource {
    fn fill(&self, buf: &mut [u8]);

    /// A uniform float in `[0, 1)`, for backoff jitter.
    fn next_f64(&self) -> f64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        // 53 random bits make every representable value in [0, 1) equally likely.
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A response body, read chunk by chunk. Dropping it cancels the underlying request.
#[async_trait(?Send)]
pub trait ByteStream {
    /// The next chunk, `None` at the end. Network failures are `LLM_NETWORK` errors.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>>;
}

pub struct HttpResponse {
    pub status: u16,
    /// Response headers the engine reads (`retry-after`, `retry-after-ms`), names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn ByteStream>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a request and resolves when the response headers arrive. Dropping the future cancels
/// the request. A failure to connect is an `LLM_NETWORK` error.
#[async_trait(?Send)]
pub trait HttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// Timers. Dropping the future clears the timer (so nothing keeps a Node process alive).
pub trait Timer {
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()>;
}

/// Cancellation requested by the caller (an `AbortSignal`).
pub trait CancelSignal {
    fn is_cancelled(&self) -> bool;
    /// Resolves once cancelled (at once if already).
    fn cancelled(&self) -> LocalBoxFuture<'static, ()>;
}

/// Authenticated encryption of byte strings. `open` fails on a wrong key or altered data.
#[async_trait(?Send)]
pub trait Cipher {
    async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>>;
    async fn open(&self, sealed: &[u8]) -> Result<Vec<u8>>;
}

/// A string key-value store. Implementations map their host's failures to `STORAGE_QUOTA`,
/// `STORAGE_UNAVAILABLE` or `STORAGE_ERROR`.
#[async_trait(?Send)]
pub trait KvBackend {
    async fn get(&self, key: &str) -> Result<Option<String>>;
    async fn put(&self, key: &str, value: &str) -> Result<()>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Every key that starts with `prefix`, in any order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;

    /// Several gets; concurrently by default (a remote store overlaps the round trips).
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        join_all(keys.iter().map(|k| self.get(k)))
            .await
            .into_iter()
            .collect()
    }

    /// Writes the entries in order; atomically where the backend can (a Durable Object's
    /// `put(entries)`), one after another otherwise.
    async fn put_many(&self, entries: &[(String, String)]) -> Result<()> {
        for (k, v) in entries {
            self.put(k, v).await?;
        }
        Ok(())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<()> {
        for k in keys {
            self.delete(k).await?;
        }
        Ok(())
    }
}

/// Held while this context writes a session; dropping it releases the lock for every context
/// (or keeps it a moment for this context's next write: see `unbroken`).
pub struct PeerLock {
    pub held: Box<dyn Any>,
    /// This context has held the lock without a break since it last wrote the session (a lease
    /// kept for consecutive writes): no other context can have written it in between, so what
    /// this context holds of the session is still current.
    pub unbroken: bool,
}

#[async_trait(?Send)]
pub trait Peers {
    /// Waits for exclusive access to one session across every context sharing the storage.
    /// `None` when the platform has no cross-context lock (the manager then relies on the store's
    /// seq-slot check: an append never overwrites another writer's message).
    async fn lock(&self, session_id: &str) -> Option<PeerLock>;

    /// Tells the other contexts about a change that is now durable.
    fn publish(&self, event: &Event);
}
