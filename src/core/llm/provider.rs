//! Which provider a model speaks, and how to reach it.

use crate::core::error::{Error, Result};

/// Every value of `llm.provider`: the wire formats, and the two models that have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI Chat Completions, and every server that copies it (Ollama, vLLM, llama.cpp, Groq,
    /// OpenRouter, ...) through `base_url`.
    OpenAi,
    Anthropic,
    Gemini,
    /// The offline provider of [`super::mock`]: it has no wire format at all.
    Mock,
    /// A JavaScript handler as the model (the binding's `CustomModel`): no wire format either.
    Custom,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Gemini,
        Provider::Mock,
        Provider::Custom,
    ];

    /// Accepts the names used in configuration, case-insensitively.
    pub fn parse(s: &str) -> Option<Provider> {
        let name = s.trim();
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// [`Provider::parse`] for `llm.provider`, with the error a configuration gets.
    pub fn from_config(s: &str) -> Result<Provider> {
        Provider::parse(s).ok_or_else(|| {
            Error::invalid_config(format!(
                "unknown llm.provider {} (expected openai, anthropic, gemini, mock or custom)",
                crate::core::json::quote(s)
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Mock => "mock",
            Provider::Custom => "custom",
        }
    }

    /// Whether an interrupted reply is continued by sending its text as an assistant prefill
    /// (Anthropic). The others get the text and then an instruction to continue it
    /// ([`super::CONTINUE_INSTRUCTION`]).
    pub fn supports_prefill(self) -> bool {
        matches!(self, Provider::Anthropic)
    }

    /// The text a continued reply grows from, given the stored text: what the request carries of
    /// it. Anthropic's prefill is sent without trailing whitespace (the API refuses it), so the
    /// continuation brings its own; the others get the stored text as it is.
    pub fn continued_text(self, stored: &str) -> &str {
        if self.supports_prefill() {
            super::anthropic::prefill_text(stored)
        } else {
            stored
        }
    }

    /// Whether requests go over HTTP through a codec of this module (`encode_request` and
    /// friends); the mock and custom models answer without one.
    pub fn has_wire_format(self) -> bool {
        match self {
            Provider::OpenAi | Provider::Anthropic | Provider::Gemini => true,
            Provider::Mock | Provider::Custom => false,
        }
    }

    /// Whether the provider refuses a conversation whose first non-system message is not the
    /// user's (Anthropic's Messages API and Gemini do); context builds then drop what comes
    /// before the first user turn.
    pub fn requires_user_first(self) -> bool {
        match self {
            Provider::Anthropic | Provider::Gemini => true,
            Provider::OpenAi | Provider::Mock | Provider::Custom => false,
        }
    }

    /// The URL prefix used when the configuration gives none.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("https://api.openai.com/v1"),
            Provider::Anthropic => Some("https://api.anthropic.com"),
            Provider::Gemini => Some("https://generativelanguage.googleapis.com/v1beta"),
            Provider::Mock | Provider::Custom => None,
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach one model.
#[derive(Clone, PartialEq)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub model: String,
    pub api_key: Option<String>,
    /// Replaces the provider's default URL prefix (e.g. `http://localhost:11434/v1`).
    pub base_url: Option<String>,
    /// Extra request headers; one whose name matches a default header (case-insensitively)
    /// replaces it, so a gateway's own auth header can stand in for the provider's.
    pub headers: Vec<(String, String)>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Anthropic only: sends `anthropic-dangerous-direct-browser-access: true`, without which
    /// Anthropic refuses CORS requests from a browser.
    pub dangerous_direct_browser_access: bool,
}

impl ProviderConfig {
    pub fn new(provider: Provider, model: impl Into<String>) -> Self {
        ProviderConfig {
            provider,
            model: model.into(),
            api_key: None,
            base_url: None,
            headers: Vec::new(),
            max_tokens: None,
            temperature: None,
            dangerous_direct_browser_access: false,
        }
    }
}

// Written by hand so that a logged config never shows the key or header values (which may
// carry credentials too).
impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ProviderConfig")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("headers", &header_names)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field(
                "dangerous_direct_browser_access",
                &self.dangerous_direct_browser_access,
            )
            .finish()
    }
}
