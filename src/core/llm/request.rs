//! What a call sends: the wire-independent request, and the HTTP request a codec makes of it.

use serde::Serialize;
use serde_json::Value;

use crate::core::model::Message;
use crate::core::record_read::{Fields, FromValue, ReadResult};

/// A tool the model may call. `parameters` is a JSON Schema for the arguments object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

impl FromValue for ToolSpec {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "a tool")?;
        Ok(ToolSpec {
            name: f.string("name")?,
            description: f.opt_string("description")?.unwrap_or_default(),
            parameters: f.opt_value("parameters").unwrap_or_default(),
        })
    }
}

crate::deserialize_via_value!(ToolSpec);

/// The user turn a continued reply ends with, for providers without assistant prefill: sent
/// after the stored partial reply, never stored.
pub const CONTINUE_INSTRUCTION: &str = "Your previous reply was cut off. Continue it exactly where it stopped: do not repeat anything you already wrote, do not comment on the interruption.";

/// What to send: the system prompt, the (already selected) history and the tools.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    pub system: Option<&'a str>,
    pub messages: &'a [Message],
    pub tools: &'a [ToolSpec],
    pub stream: bool,
}

/// A request for the platform layer to `fetch`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}
