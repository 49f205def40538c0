//! [`Timer`] over the global `setTimeout` / `clearTimeout` (reached through `globalThis`, so the
//! same code runs in a page, a worker, Node and workerd). The sleep future clears its timer when
//! dropped, so an abandoned timeout never keeps a Node process alive.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::LocalBoxFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::wake::{global_function, WakeFlag};
use crate::core::io::Timer;

/// Browsers and Node fire a delay above 2^31 - 1 ms at once (after a warning, in Node); longer
/// sleeps are made of several timeouts of at most this length.
const MAX_DELAY_MS: u64 = 2_147_483_647;

/// `setTimeout`-based timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsTimer;

impl Timer for JsTimer {
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        Box::pin(Sleep::new(ms))
    }
}

/// One scheduled `setTimeout`: its id (a number in browsers and workerd, a `Timeout` object in
/// Node) and the callback, which must live as long as the timer may fire.
struct Armed {
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

/// The future returned by [`JsTimer::sleep`].
pub struct Sleep {
    /// Milliseconds still to wait after the armed timeout fires.
    remaining: u64,
    armed: Option<Armed>,
    fired: WakeFlag,
}

impl Sleep {
    pub fn new(ms: u64) -> Self {
        let mut sleep = Sleep {
            remaining: ms,
            armed: None,
            fired: WakeFlag::default(),
        };
        sleep.arm();
        sleep
    }

    /// Schedules the next (or only) timeout. Without a `setTimeout` (no known runtime lacks one)
    /// the sleep never ends rather than ending at once.
    fn arm(&mut self) {
        let delay = self.remaining.min(MAX_DELAY_MS);
        self.remaining -= delay;
        self.fired.reset();
        let Some(set_timeout) = global_function("setTimeout") else {
            return;
        };
        let callback = self.fired.callback();
        let global: JsValue = js_sys::global().into();
        if let Ok(id) = set_timeout.call2(
            &global,
            callback.as_ref().unchecked_ref(),
            &JsValue::from_f64(delay as f64),
        ) {
            self.armed = Some(Armed {
                id,
                _callback: callback,
            });
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.fired.poll(cx).is_pending() {
                return Poll::Pending;
            }
            // This timeout has fired: its callback will not run again.
            this.armed = None;
            if this.remaining == 0 {
                return Poll::Ready(());
            }
            this.arm();
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(armed) = self.armed.take() {
            // Clearing a timer that has already fired is a no-op.
            if let Some(clear_timeout) = global_function("clearTimeout") {
                let global: JsValue = js_sys::global().into();
                let _ = clear_timeout.call1(&global, &armed.id);
            }
            // The callback is freed only now, after the timer can no longer call it.
            drop(armed);
        }
    }
}
