//! Dispatch to the provider's codec: one entry point per direction, so callers never match on
//! the provider themselves.

use super::codec::parse_body;
use super::errors::error_in_body;
use super::{anthropic, gemini, openai};
use super::{ChatRequest, ChatResponse, HttpRequest, Provider, ProviderConfig};
use crate::core::error::{Error, Result};

/// Builds the HTTP request for `req` in the configured provider's format.
///
/// Fails with `INVALID_CONFIG` for an unusable configuration (empty model, header with a line
/// break, non-finite temperature, the mock provider) and `INVALID_MESSAGE` for a history the
/// provider cannot accept (a tool result without `tool_call_id`, tool-call arguments that are
/// not a JSON object where the provider needs one, an Anthropic history not starting with a
/// user turn).
pub fn encode_request(cfg: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest> {
    if cfg.model.trim().is_empty() && cfg.provider.has_wire_format() {
        return Err(Error::invalid_config("the model name is empty"));
    }
    if let Some(t) = cfg.temperature {
        if !t.is_finite() {
            return Err(Error::invalid_config("temperature must be a finite number"));
        }
    }
    for tool in req.tools {
        if tool.name.trim().is_empty() {
            return Err(Error::invalid_argument("a tool has an empty name"));
        }
    }
    let mut http = match cfg.provider {
        Provider::OpenAi => openai::encode(cfg, req)?,
        Provider::Anthropic => anthropic::encode(cfg, req)?,
        Provider::Gemini => gemini::encode(cfg, req)?,
        Provider::Mock | Provider::Custom => return Err(no_wire_format(cfg.provider)),
    };
    merge_user_headers(&mut http.headers, &cfg.headers)?;
    Ok(http)
}

/// Decodes a successful (2xx) non-streaming response body.
pub fn decode_response(provider: Provider, body: &[u8]) -> Result<ChatResponse> {
    let v = parse_body(provider, body)?;
    if let Some(e) = error_in_body(provider, &v) {
        return Err(e);
    }
    match provider {
        Provider::OpenAi => openai::decode(&v),
        Provider::Anthropic => anthropic::decode(&v),
        Provider::Gemini => gemini::decode(&v),
        Provider::Mock | Provider::Custom => Err(no_wire_format(provider)),
    }
}

/// What the codec entry points answer for the providers that answer without HTTP.
pub(super) fn no_wire_format(provider: Provider) -> Error {
    // One message for both (one string in the wasm), naming the provider asked about.
    Error::invalid_config(format!(
        "the {provider} provider makes no HTTP requests (mock answers through llm::mock::mock_reply, custom through llm.handler)"
    ))
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn merge_user_headers(
    headers: &mut Vec<(String, String)>,
    extra: &[(String, String)],
) -> Result<()> {
    for (name, value) in extra {
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(Error::invalid_config(format!(
                "{} is not a valid HTTP header name",
                crate::core::json::quote(name)
            )));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(Error::invalid_config(format!(
                "the value of header {} contains a line break or NUL character",
                crate::core::json::quote(name)
            )));
        }
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.to_ascii_lowercase(), value.clone()));
    }
    Ok(())
}
