//! An agent's `llm` configuration as callers write it, checked into what to build: a provider
//! over HTTP, the offline mock, or a caller's handler. The host objects that may come with it (a
//! `handler` or `fetch` function) are the binding's to read; everything else is decided here.

use serde_json::Value;

use super::{Provider, ProviderConfig};
use crate::core::error::{Error, Result};
use crate::core::record_read::{Fields, FromValue, ReadResult};

/// `{ provider, model, apiKey, baseUrl, headers, maxTokens, temperature, dangerouslyAllowBrowser,
/// chunkDelayMs }`. Unknown keys are refused. (`handler` and `fetch` are functions, which never
/// reach this plain-data form: the binding reads them itself.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmOptions {
    pub provider: String,
    pub model: Option<String>,
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub headers: Option<Vec<(String, String)>>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub dangerously_allow_browser: Option<bool>,
    pub chunk_delay_ms: Option<u32>,
}

impl FromValue for LlmOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(
            &[
                "provider",
                "model",
                "apiKey",
                "baseUrl",
                "headers",
                "maxTokens",
                "temperature",
                "dangerouslyAllowBrowser",
                "chunkDelayMs",
            ],
            &["dangerousDirectBrowserAccess"],
        )?;
        let dangerously_allow_browser = match f.opt_bool("dangerouslyAllowBrowser")? {
            Some(b) => Some(b),
            None => f.opt_bool("dangerousDirectBrowserAccess")?,
        };
        Ok(LlmOptions {
            provider: f.string("provider")?,
            model: f.opt_string("model")?,
            api_key: f.opt_string("apiKey")?,
            base_url: f.opt_string("baseUrl")?,
            headers: f.opt_string_pairs("headers")?,
            max_tokens: f.opt_count32("maxTokens")?,
            temperature: f.opt_number("temperature")?,
            dangerously_allow_browser,
            chunk_delay_ms: f.opt_count32("chunkDelayMs")?,
        })
    }
}

crate::deserialize_via_value!(LlmOptions);

/// What an `llm` configuration asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmChoice {
    /// A JavaScript handler answers (`provider: "custom"`).
    Custom { model: String },
    /// The offline mock, its stream paced by `chunk_delay_ms`.
    Mock { model: String, chunk_delay_ms: u64 },
    /// A provider's HTTP API.
    Http(ProviderConfig),
}

pub const DEFAULT_CUSTOM_MODEL: &str = "custom";
pub const DEFAULT_MOCK_MODEL: &str = "mock-1";

impl LlmOptions {
    pub fn parse(self) -> Result<LlmChoice> {
        let provider = Provider::from_config(&self.provider)?;
        match provider {
            Provider::Custom => {
                return Ok(LlmChoice::Custom {
                    model: self
                        .model
                        .unwrap_or_else(|| DEFAULT_CUSTOM_MODEL.to_owned()),
                })
            }
            Provider::Mock => {
                return Ok(LlmChoice::Mock {
                    model: self.model.unwrap_or_else(|| DEFAULT_MOCK_MODEL.to_owned()),
                    chunk_delay_ms: u64::from(self.chunk_delay_ms.unwrap_or(0)),
                })
            }
            Provider::OpenAi | Provider::Anthropic | Provider::Gemini => {}
        }
        let model = self
            .model
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| Error::invalid_config("llm.model is required"))?;
        let mut cfg = ProviderConfig::new(provider, model);
        // An empty key is no key: the request goes without an auth header.
        cfg.api_key = self.api_key.filter(|k| !k.is_empty());
        cfg.base_url = self.base_url;
        cfg.headers = self.headers.unwrap_or_default();
        cfg.max_tokens = self.max_tokens;
        cfg.temperature = self.temperature;
        cfg.dangerous_direct_browser_access = self.dangerously_allow_browser.unwrap_or(false);
        Ok(LlmChoice::Http(cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorCode;

    fn opts(provider: &str) -> LlmOptions {
        LlmOptions {
            provider: provider.into(),
            ..LlmOptions::default()
        }
    }

    #[test]
    fn mock_and_custom_need_no_model() {
        assert_eq!(
            opts("mock").parse().unwrap(),
            LlmChoice::Mock {
                model: "mock-1".into(),
                chunk_delay_ms: 0
            }
        );
        assert_eq!(
            opts("custom").parse().unwrap(),
            LlmChoice::Custom {
                model: "custom".into()
            }
        );
    }

    #[test]
    fn http_providers_need_a_model_and_drop_an_empty_key() {
        let err = opts("openai").parse().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(err.message.contains("llm.model"));
        let blank = LlmOptions {
            model: Some("  ".into()),
            ..opts("anthropic")
        };
        assert!(blank.parse().is_err());
        let o = LlmOptions {
            model: Some("gpt-4o-mini".into()),
            api_key: Some(String::new()),
            headers: Some([("X-A".to_string(), "1".to_string())].into()),
            dangerously_allow_browser: Some(true),
            ..opts("openai")
        };
        let LlmChoice::Http(cfg) = o.parse().unwrap() else {
            panic!("an HTTP provider")
        };
        assert_eq!(cfg.provider, Provider::OpenAi);
        assert_eq!(cfg.api_key, None);
        assert_eq!(cfg.headers, vec![("X-A".to_string(), "1".to_string())]);
        assert!(cfg.dangerous_direct_browser_access);
    }

    #[test]
    fn an_unknown_provider_or_key_is_refused() {
        assert_eq!(
            opts("gpt").parse().unwrap_err().code,
            ErrorCode::InvalidConfig
        );
        let typo = serde_json::from_str::<LlmOptions>(r#"{"provider":"mock","modle":"x"}"#);
        assert!(typo.is_err());
    }
}
