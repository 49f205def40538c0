//! `Run`: a unit of work a caller tracks on a session (PraisonAI's `createRun()`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::convert::{from_js, promise, to_js, JsResult};
use super::errors::{illegal_constructor, is_our_error};
use crate::core::error::ErrorCode;
use crate::core::manager::SessionManager;
use crate::core::model::{Run as RunRecord, RunStatus, Usage};
use crate::core::record_read::{via_value, Fields, FromValue, ReadResult};
use serde_json::Value;

#[wasm_bindgen(skip_typescript)]
pub struct Run {
    manager: Rc<SessionManager>,
    state: Rc<RefCell<RunRecord>>,
}

#[derive(Default)]
struct CompleteOptionsJs {
    tokens_used: Option<f64>,
    usage: Option<Usage>,
}

// Read by hand (core/record_read.rs): no serde visitor for one options object.
impl FromValue for CompleteOptionsJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(&["tokensUsed", "usage"], &[])?;
        Ok(CompleteOptionsJs {
            tokens_used: f.opt_number("tokensUsed")?,
            usage: f.opt("usage")?,
        })
    }
}

impl<'de> Deserialize<'de> for CompleteOptionsJs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d)
    }
}

impl Run {
    pub(crate) fn new(manager: Rc<SessionManager>, record: RunRecord) -> Run {
        Run {
            manager,
            state: Rc::new(RefCell::new(record)),
        }
    }

    /// Updates the record now (so `status` and `duration` read back at once) and persists it.
    /// Each write stores the state current when it runs, so overlapping writes end on the latest.
    fn transition(&self, f: impl FnOnce(&mut RunRecord, f64), add_usage: bool) -> Promise {
        f(&mut self.state.borrow_mut(), self.manager.now());
        let (manager, state) = (self.manager.clone(), self.state.clone());
        promise(async move {
            let record = state.borrow().clone();
            manager.put_run(&record, add_usage).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    fn end(run: &mut RunRecord, now: f64, status: RunStatus) {
        let started = *run.started_at.get_or_insert(now);
        run.status = status;
        run.ended_at = Some(now);
        run.duration_ms = Some((now - started).max(0.0));
    }
}

#[wasm_bindgen]
impl Run {
    /// `new Run()` from JavaScript: refused with an error that says where one comes from
    /// (without this, wasm-bindgen's class would construct an empty shell that fails later).
    #[wasm_bindgen(constructor)]
    pub fn illegal_constructor() -> JsResult<Run> {
        Err(illegal_constructor("Run", "`session.createRun()`"))
    }

    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.state.borrow().id.clone()
    }

    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.state.borrow().session_id.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn status(&self) -> JsResult<JsValue> {
        to_js(&self.state.borrow().status)
    }

    /// Milliseconds from `start()` to `complete()`/`fail()` (or to now while running); `null`
    /// before `start()`.
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> JsValue {
        let run = self.state.borrow();
        run.duration_ms
            .or_else(|| run.started_at.map(|s| (self.manager.now() - s).max(0.0)))
            .map_or(JsValue::NULL, JsValue::from_f64)
    }

    pub fn start(&self) -> Promise {
        self.transition(
            |r, now| {
                r.status = RunStatus::Running;
                r.started_at = Some(now);
                r.attempts += 1;
            },
            false,
        )
    }

    /// `{ tokensUsed }` or `{ usage: { inputTokens, outputTokens, totalTokens } }`; the usage is
    /// added to the session's totals.
    pub fn complete(&self, options: JsValue) -> Promise {
        let parsed: JsResult<Option<CompleteOptionsJs>> =
            from_js(&options, "options", ErrorCode::InvalidArgument);
        let o = match parsed {
            Ok(o) => o.unwrap_or_default(),
            Err(e) => return Promise::reject(&e),
        };
        let mut usage = o.usage.unwrap_or_default();
        if let Some(t) = o.tokens_used {
            usage.total_tokens = t.max(0.0) as u64;
        } else if usage.total_tokens == 0 {
            usage.total_tokens = usage.input_tokens + usage.output_tokens;
        }
        self.transition(
            |r, now| {
                Run::end(r, now, RunStatus::Completed);
                r.usage = usage;
            },
            true,
        )
    }

    /// Records the failure; an `AgentSessionsError` keeps its code, anything else is `ERROR`.
    pub fn fail(&self, error: JsValue) -> Promise {
        let code = if is_our_error(&error) {
            js_sys::Reflect::get(&error, &"code".into())
                .ok()
                .and_then(|c| c.as_string())
        } else {
            None
        };
        let message = error
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| error.as_string());
        self.transition(
            |r, now| {
                Run::end(r, now, RunStatus::Failed);
                r.error_code = Some(code.unwrap_or_else(|| "ERROR".to_owned()));
                r.error_message = message;
            },
            false,
        )
    }

    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsResult<JsValue> {
        to_js(&*self.state.borrow())
    }
}
