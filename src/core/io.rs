//! The few effects the run engine needs, as traits: an HTTP client with a streamed body, a timer,
//! and a cancellation signal. The platform implements them over `fetch`, `setTimeout` and
//! `AbortSignal`; native tests implement them with scripted fakes. Futures are not `Send`.

use async_trait::async_trait;
use futures_util::future::LocalBoxFuture;

use crate::core::error::Result;
use crate::core::llm::HttpRequest;

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

/// A cancellation flag the library itself can raise (e.g. when a stream's consumer stops
/// iterating), usable wherever a [`CancelSignal`] is.
#[derive(Clone, Default)]
pub struct CancelToken {
    state: std::rc::Rc<std::cell::RefCell<CancelState>>,
}

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    wakers: Vec<std::task::Waker>,
}

impl CancelToken {
    pub fn new() -> Self {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        let wakers = {
            let mut s = self.state.borrow_mut();
            s.cancelled = true;
            std::mem::take(&mut s.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }
}

impl CancelSignal for CancelToken {
    fn is_cancelled(&self) -> bool {
        self.state.borrow().cancelled
    }

    fn cancelled(&self) -> LocalBoxFuture<'static, ()> {
        let state = self.state.clone();
        Box::pin(futures_util::future::poll_fn(move |cx| {
            let mut s = state.borrow_mut();
            if s.cancelled {
                std::task::Poll::Ready(())
            } else {
                s.wakers.push(cx.waker().clone());
                std::task::Poll::Pending
            }
        }))
    }
}

/// Cancelled as soon as any of its signals is.
pub struct AnyCancel(pub Vec<std::rc::Rc<dyn CancelSignal>>);

impl CancelSignal for AnyCancel {
    fn is_cancelled(&self) -> bool {
        self.0.iter().any(|s| s.is_cancelled())
    }

    fn cancelled(&self) -> LocalBoxFuture<'static, ()> {
        if self.0.is_empty() {
            return Box::pin(futures_util::future::pending());
        }
        let all: Vec<_> = self.0.iter().map(|s| s.cancelled()).collect();
        Box::pin(async move {
            futures_util::future::select_all(all).await;
        })
    }
}
