//! JavaScript listeners on a core event bus (the store's events, an agent's run events).

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::convert::{require_function, string_arg, to_js, JsResult};
use crate::core::error::{Error, ErrorCode};
use crate::core::events::{BusEvent, EventBus};

/// Adds a listener and returns a function that removes it. A listener that throws is reported on
/// the console and does not disturb the operation that emitted the event.
pub fn subscribe<E: BusEvent>(
    bus: &Rc<EventBus<E>>,
    event: &JsValue,
    listener: JsValue,
) -> JsResult<JsValue> {
    let name = string_arg(event, "event name", ErrorCode::InvalidArgument)?;
    let listener = require_function(listener, "listener")?;
    let id = bus
        .on(
            &name,
            Rc::new(move |e: &E| {
                let delivered =
                    to_js(&e.to_json()).and_then(|p| listener.call1(&JsValue::NULL, &p));
                if let Err(err) = delivered {
                    web_sys::console::error_2(
                        &"agent-sessions: an event listener threw".into(),
                        &err,
                    );
                }
            }),
        )
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "unknown event {}; expected one of {}",
                crate::core::json::quote(&name),
                E::NAMES.join(", ")
            ))
        })?;
    let weak = Rc::downgrade(bus);
    let off = Closure::<dyn FnMut()>::new(move || {
        if let Some(bus) = weak.upgrade() {
            bus.off(id);
        }
    });
    Ok(off.into_js_value())
}
