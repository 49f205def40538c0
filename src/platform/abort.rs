//! [`CancelSignal`] over a caller's `AbortSignal`. Duck-typed (`aborted` + `addEventListener`)
//! rather than `instanceof`, so signals from another realm, a polyfill or Node's own
//! implementation are all accepted.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::LocalBoxFuture;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use super::wake::{function_property, WakeFlag};
use crate::core::error::{Error, Result};
use crate::core::io::CancelSignal;

/// A JavaScript `AbortSignal`.
#[derive(Clone, Debug)]
pub struct JsAbortSignal(JsValue);

impl JsAbortSignal {
    /// `undefined` / `null` → `None`; an object with a boolean `aborted` and an
    /// `addEventListener` function → `Some`; anything else → `INVALID_ARGUMENT`.
    pub fn from_js(value: &JsValue) -> Result<Option<JsAbortSignal>> {
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        let looks_like_signal = value.is_object()
            && Reflect::get(value, &JsValue::from_str("aborted"))
                .map(|a| a.as_bool().is_some())
                .unwrap_or(false)
            && Reflect::get(value, &JsValue::from_str("addEventListener"))
                .map(|f| f.is_function())
                .unwrap_or(false);
        if looks_like_signal {
            Ok(Some(JsAbortSignal(value.clone())))
        } else {
            Err(Error::invalid_argument("signal must be an AbortSignal"))
        }
    }

    /// The underlying JS value.
    pub fn as_js(&self) -> &JsValue {
        &self.0
    }

    /// `signal.reason` (an `AbortError` `DOMException` unless the caller passed one), or
    /// `undefined`.
    pub fn reason(&self) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str("reason")).unwrap_or(JsValue::UNDEFINED)
    }
}

/// Free function form of [`JsAbortSignal::from_js`].
pub fn from_js(value: &JsValue) -> Result<Option<JsAbortSignal>> {
    JsAbortSignal::from_js(value)
}

fn is_aborted(signal: &JsValue) -> bool {
    Reflect::get(signal, &JsValue::from_str("aborted"))
        .map(|a| a.is_truthy())
        .unwrap_or(false)
}

impl CancelSignal for JsAbortSignal {
    fn is_cancelled(&self) -> bool {
        is_aborted(&self.0)
    }

    fn cancelled(&self) -> LocalBoxFuture<'static, ()> {
        Box::pin(Cancelled::new(self.0.clone()))
    }
}

struct Listener {
    callback: Closure<dyn FnMut()>,
}

/// Resolves when the signal's `abort` event fires (at once if already aborted). Removes its
/// listener when dropped.
struct Cancelled {
    signal: JsValue,
    listener: Option<Listener>,
    fired: WakeFlag,
}

impl Cancelled {
    fn new(signal: JsValue) -> Self {
        let mut this = Cancelled {
            signal,
            listener: None,
            fired: WakeFlag::default(),
        };
        if !is_aborted(&this.signal) {
            this.listen();
        }
        this
    }

    fn listen(&mut self) {
        let Some(add) = function_property(&self.signal, "addEventListener") else {
            return;
        };
        let callback = self.fired.callback();
        let options = Object::new();
        let _ = Reflect::set(&options, &JsValue::from_str("once"), &JsValue::TRUE);
        if add
            .call3(
                &self.signal,
                &JsValue::from_str("abort"),
                callback.as_ref(),
                &options,
            )
            .is_ok()
        {
            self.listener = Some(Listener { callback });
        }
    }
}

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // `aborted` is checked too: it is set before listeners run, and covers a signal whose
        // listener could not be added.
        if this.fired.is_set() || is_aborted(&this.signal) {
            return Poll::Ready(());
        }
        this.fired.poll(cx)
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            // Harmless after a `once` listener has already run and been removed.
            if let Some(remove) = function_property(&self.signal, "removeEventListener") {
                let _ = remove.call2(
                    &self.signal,
                    &JsValue::from_str("abort"),
                    listener.callback.as_ref(),
                );
            }
            drop(listener);
        }
    }
}
