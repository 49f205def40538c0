//! The streamed-reply decoder: SSE bytes in, [`StreamEvent`]s out, with truncation detected.

use super::dispatch::no_wire_format;
use super::sse::{SseEvent, SseParser};
use super::{anthropic, gemini, openai, Provider, StreamEvent};
use crate::core::error::{Error, ErrorCode, Result};

/// Longest line or event the stream decoder holds before giving up on the stream: a server that
/// never ends a line must not grow memory without bound.
const MAX_BUFFERED_BYTES: usize = 32 * 1024 * 1024;

/// Decodes a streamed (SSE) response body chunk by chunk.
///
/// When a chunk both completes some events and then fails (an error event, a malformed
/// payload), `push` returns the good events and the next call to `push` or `finish` returns the
/// error, so text that reached the caller before the failure is not lost.
#[derive(Debug)]
pub struct StreamDecoder {
    provider: Provider,
    sse: SseParser,
    state: StreamState,
    /// A failure to report on the next call, and on every call after it.
    failed: Option<Error>,
    events_seen: usize,
    text_chars: usize,
    tool_calls_seen: usize,
}

#[derive(Debug)]
enum StreamState {
    OpenAi(openai::StreamState),
    Anthropic(anthropic::StreamState),
    Gemini(gemini::StreamState),
    /// The mock and custom providers: nothing to decode.
    NoWire,
}

impl StreamDecoder {
    pub fn new(provider: Provider) -> Self {
        let state = match provider {
            Provider::OpenAi => StreamState::OpenAi(openai::StreamState::default()),
            Provider::Anthropic => StreamState::Anthropic(anthropic::StreamState::default()),
            Provider::Gemini => StreamState::Gemini(gemini::StreamState::default()),
            Provider::Mock | Provider::Custom => StreamState::NoWire,
        };
        StreamDecoder {
            provider,
            sse: SseParser::new(),
            state,
            failed: None,
            events_seen: 0,
            text_chars: 0,
            tool_calls_seen: 0,
        }
    }

    /// Feeds the next body chunk.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<StreamEvent>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let events = self.sse.push(bytes);
        let mut out = Vec::new();
        let mut result = self.handle_all(&events, false, &mut out);
        if result.is_ok() && self.sse.buffered_len() > MAX_BUFFERED_BYTES {
            result = Err(Error::new(
                ErrorCode::LlmBadResponse,
                format!(
                    "the {} stream sent more than {MAX_BUFFERED_BYTES} bytes without completing an event",
                    self.provider
                ),
            ));
        }
        match result {
            Ok(()) => Ok(out),
            Err(e) => {
                self.failed = Some(e.clone());
                if out.is_empty() {
                    Err(e)
                } else {
                    Ok(out)
                }
            }
        }
    }

    /// Ends the body. Fails with `LLM_STREAM_TRUNCATED` when the provider's end marker never
    /// came, with a message saying how far the stream got.
    pub fn finish(&mut self) -> Result<Vec<StreamEvent>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let events = self.sse.finish();
        let mut out = Vec::new();
        let result = self
            .handle_all(&events, true, &mut out)
            .and_then(|()| self.check_complete());
        match result {
            Ok(()) => Ok(out),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn handle_all(
        &mut self,
        events: &[SseEvent],
        at_eof: bool,
        out: &mut Vec<StreamEvent>,
    ) -> Result<()> {
        for ev in events {
            self.events_seen += 1;
            let start = out.len();
            let r = self.handle(ev, out);
            for e in out.get(start..).unwrap_or_default() {
                match e {
                    StreamEvent::TextDelta(t) => self.text_chars += t.chars().count(),
                    StreamEvent::ToolCall(_) => self.tool_calls_seen += 1,
                    _ => {}
                }
            }
            if let Err(e) = r {
                // An event the body ended in the middle of is truncation, not a bad server.
                if at_eof && e.code == ErrorCode::LlmBadResponse {
                    return Err(self.truncated());
                }
                return Err(e);
            }
        }
        Ok(())
    }

    fn handle(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<()> {
        match &mut self.state {
            StreamState::OpenAi(s) => s.on_event(ev, out),
            StreamState::Anthropic(s) => s.on_event(ev, out),
            StreamState::Gemini(s) => s.on_event(ev, out),
            StreamState::NoWire => Err(no_wire_format(self.provider)),
        }
    }

    fn check_complete(&self) -> Result<()> {
        let complete = match &self.state {
            StreamState::OpenAi(s) => s.is_complete(),
            StreamState::Anthropic(s) => s.is_complete(),
            StreamState::Gemini(s) => s.is_complete(),
            StreamState::NoWire => return Err(no_wire_format(self.provider)),
        };
        if complete {
            Ok(())
        } else {
            Err(self.truncated())
        }
    }

    fn truncated(&self) -> Error {
        let (marker, pending) = match &self.state {
            StreamState::OpenAi(s) => ("`data: [DONE]` or a finish_reason", s.pending_calls()),
            StreamState::Anthropic(s) => ("message_stop", s.pending_calls()),
            StreamState::Gemini(_) => ("a finishReason", 0),
            StreamState::NoWire => ("", 0),
        };
        let mut msg = format!(
            "the {} stream ended before {marker}; received {} event{}, {} character{} of text, {} tool call{}",
            self.provider,
            self.events_seen,
            plural(self.events_seen),
            self.text_chars,
            plural(self.text_chars),
            self.tool_calls_seen,
            plural(self.tool_calls_seen),
        );
        if pending > 0 {
            msg.push_str(&format!(
                " and {pending} unfinished tool call{}",
                plural(pending)
            ));
        }
        // Ended early in transit: a new request may well complete.
        Error::new(ErrorCode::LlmStreamTruncated, msg).with_retryable(true)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
