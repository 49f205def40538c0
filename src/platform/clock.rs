use crate::core::io::Clock;
use crate::core::model::Millis;

/// `Date.now()`, available in every JavaScript runtime.
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> Millis {
        js_sys::Date::now()
    }
}
