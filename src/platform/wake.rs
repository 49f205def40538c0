//! Small pieces the host adapters share: a one-shot wake-up that a JavaScript callback raises
//! for a Rust future, and reading an optional function off a JavaScript object.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Set by a JavaScript callback (a timer, an event), awaited by one future.
#[derive(Clone, Default)]
pub struct WakeFlag(Rc<RefCell<WakeState>>);

#[derive(Default)]
struct WakeState {
    fired: bool,
    waker: Option<Waker>,
}

impl WakeFlag {
    pub fn is_set(&self) -> bool {
        self.0.try_borrow().map(|s| s.fired).unwrap_or(false)
    }

    pub fn reset(&self) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            s.fired = false;
        }
    }

    /// Ready once set; otherwise remembers the task to wake.
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self.0.try_borrow_mut() {
            Ok(s) if s.fired => Poll::Ready(()),
            Ok(mut s) => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Err(_) => Poll::Pending,
        }
    }

    /// A JavaScript callback that sets the flag and wakes the waiting task. It must be kept alive
    /// as long as JavaScript may call it.
    pub fn callback(&self) -> Closure<dyn FnMut()> {
        let state = self.0.clone();
        Closure::<dyn FnMut()>::own_assert_unwind_safe(move || {
            let waker = match state.try_borrow_mut() {
                Ok(mut s) => {
                    s.fired = true;
                    s.waker.take()
                }
                Err(_) => None,
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        })
    }
}

/// `target[name]` when it is a function.
pub fn function_property(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

/// `globalThis[name]` when it is a function (`fetch`, `setTimeout`, …).
pub fn global_function(name: &str) -> Option<Function> {
    function_property(&js_sys::global().into(), name)
}
