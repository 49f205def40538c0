//! One model call as a stream of [`StreamEvent`]s, whatever the provider: over HTTP for the wire
//! formats, computed locally for the offline mock. The run engine (`core::agent`) drives these.

use std::collections::VecDeque;
use std::rc::Rc;

use async_trait::async_trait;

use super::{
    decode_error, decode_response, encode_request, mock, parse_retry_after, ChatRequest, Provider,
    ProviderConfig, StreamDecoder, StreamEvent,
};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::io::{ByteStream, HttpClient, Timer};

/// The events of one reply, pulled one at a time.
#[async_trait(?Send)]
pub trait EventSource {
    /// The next event; `None` once the reply is complete.
    async fn next_event(&mut self) -> Result<Option<StreamEvent>>;
}

/// A model that can be called. `open` resolves once the reply has started (HTTP headers in).
#[async_trait(?Send)]
pub trait ChatModel {
    /// Which provider answers: recorded on runs, and it decides how contexts are built.
    fn provider(&self) -> Provider;
    fn model(&self) -> &str;
    async fn open(&self, request: &ChatRequest<'_>) -> Result<Box<dyn EventSource>>;
}

/// Largest error body read to build an error message.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Largest non-streamed reply accepted.
const MAX_JSON_BODY: usize = 32 * 1024 * 1024;

async fn read_body(body: &mut dyn ByteStream, limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next_chunk().await? {
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// OpenAI-compatible, Anthropic or Gemini over an [`HttpClient`].
pub struct HttpModel {
    pub config: ProviderConfig,
    pub http: Rc<dyn HttpClient>,
    /// For `Retry-After` HTTP-dates.
    pub now_ms: Rc<dyn Fn() -> f64>,
}

#[async_trait(?Send)]
impl ChatModel for HttpModel {
    fn provider(&self) -> Provider {
        self.config.provider
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn open(&self, request: &ChatRequest<'_>) -> Result<Box<dyn EventSource>> {
        let http_request = encode_request(&self.config, request)?;
        let mut response = self.http.send(http_request).await?;
        let provider = self.config.provider;
        if !(200..300).contains(&response.status) {
            let retry_after = parse_retry_after(
                response.header("retry-after-ms"),
                response.header("retry-after"),
                (self.now_ms)(),
            );
            // A body that cannot be read still leaves a useful status error.
            let body = read_body(&mut *response.body, MAX_ERROR_BODY)
                .await
                .unwrap_or_default();
            return Err(decode_error(provider, response.status, retry_after, &body));
        }
        if is_html(response.header("content-type")) {
            // A web page answered with 200 (a base URL that points at a site, a login portal):
            // it would come back the same, so it is not retried.
            let body = read_body(&mut *response.body, MAX_ERROR_BODY)
                .await
                .unwrap_or_default();
            return Err(Error::new(
                ErrorCode::LlmBadResponse,
                format!(
                    "{provider} answered with an HTML page, not its API (check baseUrl): {}",
                    super::codec::snippet(&body, 200)
                ),
            ));
        }
        if request.stream {
            return Ok(Box::new(SseSource {
                body: response.body,
                decoder: StreamDecoder::new(provider),
                queue: VecDeque::new(),
                received: false,
                finished: false,
            }));
        }
        Ok(Box::new(JsonSource {
            body: Some(response.body),
            provider,
            events: VecDeque::new(),
            received: false,
        }))
    }
}

fn is_html(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        let t = t.trim_start().to_ascii_lowercase();
        t.starts_with("text/html") || t.starts_with("application/xhtml")
    })
}

/// A whole JSON reply, read when first asked for. Nothing of it reaches the caller before it is
/// whole, so a body that fails half-way is a failure the run engine may retry (the providers'
/// SDKs, which read the body outside their retry loop, do not).
struct JsonSource {
    body: Option<Box<dyn ByteStream>>,
    provider: Provider,
    events: VecDeque<StreamEvent>,
    received: bool,
}

#[async_trait(?Send)]
impl EventSource for JsonSource {
    async fn next_event(&mut self) -> Result<Option<StreamEvent>> {
        if let Some(mut body) = self.body.take() {
            let mut bytes = Vec::new();
            loop {
                match body.next_chunk().await {
                    Ok(Some(chunk)) => {
                        self.received |= !chunk.is_empty();
                        if bytes.len() + chunk.len() > MAX_JSON_BODY {
                            return Err(Error::new(
                                ErrorCode::LlmBadResponse,
                                format!("the response is larger than {MAX_JSON_BODY} bytes"),
                            ));
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) if self.received => {
                        return Err(Error::new(
                            ErrorCode::LlmStreamTruncated,
                            format!("the response was cut off before it ended: {}", e.message),
                        )
                        .with_retryable(true))
                    }
                    Err(e) => return Err(e),
                }
            }
            self.events = reply_events(decode_response(self.provider, &bytes)?).into();
        }
        Ok(self.events.pop_front())
    }
}

/// The events a whole reply stands for, in stream order.
pub fn reply_events(reply: super::ChatResponse) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    if let Some(m) = reply.model {
        events.push(StreamEvent::Model(m));
    }
    if !reply.content.is_empty() {
        events.push(StreamEvent::TextDelta(reply.content));
    }
    events.extend(reply.tool_calls.into_iter().map(StreamEvent::ToolCall));
    events.push(StreamEvent::Finish {
        reason: reply.finish_reason.unwrap_or_else(|| "stop".to_owned()),
    });
    if let Some(u) = reply.usage {
        events.push(StreamEvent::Usage(u));
    }
    events
}

struct SseSource {
    body: Box<dyn ByteStream>,
    decoder: StreamDecoder,
    queue: VecDeque<StreamEvent>,
    received: bool,
    finished: bool,
}

#[async_trait(?Send)]
impl EventSource for SseSource {
    async fn next_event(&mut self) -> Result<Option<StreamEvent>> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if self.finished {
                return Ok(None);
            }
            match self.body.next_chunk().await {
                Ok(Some(bytes)) => {
                    self.received |= !bytes.is_empty();
                    self.queue.extend(self.decoder.push(&bytes)?);
                }
                Ok(None) => {
                    self.finished = true;
                    self.queue.extend(self.decoder.finish()?);
                }
                // The connection dropped mid-reply: the stream ended without its finish marker.
                Err(e) if self.received => {
                    return Err(Error::new(
                        ErrorCode::LlmStreamTruncated,
                        format!("the stream was cut off before it finished: {}", e.message),
                    )
                    .with_retryable(true))
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Events known up front, optionally paced (the mock provider's streaming).
pub struct ListSource {
    events: VecDeque<StreamEvent>,
    pace: Option<(Rc<dyn Timer>, u64)>,
    delivered: bool,
}

impl ListSource {
    pub fn new(events: Vec<StreamEvent>, pace: Option<(Rc<dyn Timer>, u64)>) -> Self {
        ListSource {
            events: events.into(),
            pace,
            delivered: false,
        }
    }
}

#[async_trait(?Send)]
impl EventSource for ListSource {
    async fn next_event(&mut self) -> Result<Option<StreamEvent>> {
        let next = self.events.pop_front();
        if let (Some(StreamEvent::TextDelta(_)), Some((timer, ms))) = (&next, &self.pace) {
            if self.delivered && *ms > 0 {
                timer.sleep(*ms).await;
            }
        }
        self.delivered |= next.is_some();
        Ok(next)
    }
}

/// The offline, deterministic provider: replies computed from the conversation it is sent.
pub struct MockModel {
    pub model: String,
    pub agent_name: Option<String>,
    /// Pause between streamed chunks, so a demo can show streaming and stopping.
    pub chunk_delay_ms: u64,
    pub timer: Rc<dyn Timer>,
}

#[async_trait(?Send)]
impl ChatModel for MockModel {
    fn provider(&self) -> Provider {
        Provider::Mock
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn open(&self, request: &ChatRequest<'_>) -> Result<Box<dyn EventSource>> {
        let reply = mock::mock_reply(self.agent_name.as_deref(), request.system, request.messages);
        let usage = mock::mock_usage(request.messages, &reply);
        let events = mock::mock_stream_events(&self.model, &reply, usage);
        let pace = request
            .stream
            .then(|| (self.timer.clone(), self.chunk_delay_ms));
        Ok(Box::new(ListSource::new(events, pace)))
    }
}
