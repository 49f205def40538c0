//! What a call gets back, whatever the provider: a whole reply, or the events of a streamed one.

use crate::core::model::{ToolCall, Usage};

/// A whole reply. `finish_reason` is the provider's own word (`stop`, `end_turn`, `STOP`,
/// `tool_calls`, ...), not normalised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatResponse {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    pub model: Option<String>,
}

impl ChatResponse {
    /// Folds stream events into the reply they describe; `ChatResponse::default()` then `apply`
    /// for each event gives what the non-streaming endpoint would have returned.
    pub fn apply(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(t) => self.content.push_str(t),
            StreamEvent::ToolCall(c) => self.tool_calls.push(c.clone()),
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Finish { reason } => self.finish_reason = Some(reason.clone()),
            StreamEvent::Model(m) => self.model = Some(m.clone()),
        }
    }

    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e StreamEvent>) -> Self {
        let mut r = ChatResponse::default();
        for e in events {
            r.apply(e);
        }
        r
    }
}

/// One step of a streamed reply.
///
/// A stream that decodes without error yields exactly one `Finish`. `ToolCall`s come whole,
/// before `Finish`. `Usage` may come more than once and after `Finish` (OpenAI sends it in a
/// chunk of its own at the end): the last one is the total. `Model` comes at most once.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    TextDelta(String),
    ToolCall(ToolCall),
    Usage(Usage),
    Finish { reason: String },
    Model(String),
}
