//! LLM provider codecs: turn a session's history into an HTTP request for OpenAI-compatible,
//! Anthropic or Gemini endpoints, and turn their JSON bodies, SSE streams and error bodies back
//! into one shape. Pure: the platform layer does the `fetch`, the clock and the randomness.
//!
//! Nothing here may panic on what a server or a caller sends: in wasm a panic aborts the whole
//! instance, so every lookup into decoded data is fallible.
//!
//! - [`provider`]: which provider ([`Provider`]) and how to reach it ([`ProviderConfig`]);
//! - [`request`], [`reply`]: what a call sends and gets back, whatever the provider;
//! - `dispatch`: [`encode_request`] / [`decode_response`], the one place that picks a codec;
//! - `stream`: [`StreamDecoder`], SSE bytes to [`StreamEvent`]s, truncation detected;
//! - `errors`: [`decode_error`] and errors reported inside 200 bodies and streams;
//! - `codec`: helpers the codecs share; `openai`, `anthropic`, `gemini`: the codecs;
//! - [`chat`]: a call as a stream of events (HTTP or mock); [`mock`]: the offline model;
//!   [`retry`]: when and how long to wait before trying again; [`sse`]: the SSE parser.
//!
//! # Adding a provider
//!
//! 1. A variant of [`Provider`], and its arm in every `match` there: its config name in
//!    `as_str` (and `from_config`'s message), `has_wire_format`, `requires_user_first`,
//!    `default_base_url`. The compiler lists each `match` that still lacks it.
//! 2. A codec module (copy `gemini.rs` for the shape): `encode(cfg, req) -> HttpRequest`,
//!    `decode(&Value) -> ChatResponse`, and a `StreamState` with `on_event`, `is_complete`
//!    (and `pending_calls` if tool calls stream in pieces). Build requests with `codec`'s
//!    helpers (`base_url`, `api_key`, `base_headers`, `to_body`), so user headers and keys are
//!    checked the same way for everyone.
//! 3. Its arms in `dispatch` (`encode_request`, `decode_response`) and in `stream`
//!    (`StreamState`, `StreamDecoder::new`, `handle`, `check_complete`, `truncated`).
//! 4. If its error bodies have a shape `errors::error_detail` does not know, teach it there.
//! 5. Tests beside the codec (request fixture, JSON reply, a stream with its finish marker, a
//!    truncated stream, an error body) using the builders in `tests.rs`; the mock LLM server
//!    (`tests/support/mock-llm-server.mjs`) learns its endpoint for the JS suites.
//! 6. The `Provider` union in `src/bindings/types.d.ts`, and the providers table in the README.

mod anthropic;
pub mod chat;
mod codec;
mod dispatch;
mod errors;
mod gemini;
pub mod mock;
mod openai;
pub mod options;
pub mod provider;
pub mod reply;
pub mod request;
pub mod retry;
pub mod sse;
mod stream;

pub use dispatch::{decode_response, encode_request};
pub use errors::decode_error;
pub use openai::encode_messages as openai_chat_messages;
pub use options::{LlmChoice, LlmOptions};
pub use provider::{Provider, ProviderConfig};
pub use reply::{ChatResponse, StreamEvent};
pub use request::{ChatRequest, HttpRequest, ToolSpec, CONTINUE_INSTRUCTION};
pub use retry::{is_retryable_status, parse_retry_after, RetryPolicy};
pub use stream::StreamDecoder;

#[cfg(test)]
mod tests;
