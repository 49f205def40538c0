//! Cancellation the library raises itself: a token it can trip (a stream's consumer stopped
//! iterating), and "any of these signals", usable wherever a [`CancelSignal`] is.

use futures_util::future::LocalBoxFuture;

use crate::core::io::CancelSignal;

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
                // A future polled again (once per chunk of a stream) registers its task once.
                if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    s.wakers.push(cx.waker().clone());
                }
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
