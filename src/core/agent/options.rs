//! An agent's `retry`, `timeoutMs`, `idleTimeoutMs`, `context` and `tools` as callers write them,
//! checked into [`AgentSettings`].

use serde_json::Value;

use super::{AgentSettings, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS};
use crate::core::context::ContextOptions;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::llm::{RetryPolicy, ToolSpec};
use crate::core::record_read::{Fields, FromValue, ReadResult};

/// `{ maxRetries, baseDelayMs, maxDelayMs, maxRetryAfterMs, midStream }`; each absent field
/// keeps the default of [`RetryPolicy`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryOptions {
    pub max_retries: Option<u32>,
    pub base_delay_ms: Option<u32>,
    pub max_delay_ms: Option<u32>,
    pub max_retry_after_ms: Option<u32>,
    pub mid_stream: Option<bool>,
}

impl FromValue for RetryOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(
            &[
                "maxRetries",
                "baseDelayMs",
                "maxDelayMs",
                "maxRetryAfterMs",
                "midStream",
            ],
            &[],
        )?;
        Ok(RetryOptions {
            max_retries: f.opt_count32("maxRetries")?,
            base_delay_ms: f.opt_count32("baseDelayMs")?,
            max_delay_ms: f.opt_count32("maxDelayMs")?,
            max_retry_after_ms: f.opt_count32("maxRetryAfterMs")?,
            mid_stream: f.opt_bool("midStream")?,
        })
    }
}

crate::deserialize_via_value!(RetryOptions);

impl RetryOptions {
    pub fn policy(self) -> RetryPolicy {
        let d = RetryPolicy::default();
        RetryPolicy {
            max_retries: self.max_retries.unwrap_or(d.max_retries),
            base_delay_ms: self.base_delay_ms.map_or(d.base_delay_ms, u64::from),
            max_delay_ms: self.max_delay_ms.map_or(d.max_delay_ms, u64::from),
            max_retry_after_ms: self
                .max_retry_after_ms
                .map_or(d.max_retry_after_ms, u64::from),
            mid_stream: self.mid_stream.unwrap_or(d.mid_stream),
        }
    }
}

/// Everything of an agent's configuration besides its model and storage, as read from the caller.
#[derive(Debug, Clone, Default)]
pub struct AgentOptions {
    pub name: String,
    pub instructions: Option<String>,
    pub retry: Option<RetryOptions>,
    /// `timeoutMs` and `idleTimeoutMs` as given (JavaScript numbers).
    pub timeout_ms: Option<f64>,
    pub idle_timeout_ms: Option<f64>,
    pub context: Option<ContextOptions>,
    pub tools: Option<Vec<ToolSpec>>,
}

/// A positive number of milliseconds, or the default when absent.
fn millis(value: Option<f64>, key: &str, default: u64) -> Result<u64> {
    match value {
        None => Ok(default),
        Some(n) if n.is_finite() && n > 0.0 => Ok(n as u64),
        Some(_) => Err(Error::invalid_config(format!(
            "{key} must be a positive number of milliseconds"
        ))),
    }
}

impl AgentOptions {
    pub fn parse(self) -> Result<AgentSettings> {
        Ok(AgentSettings {
            name: self.name,
            instructions: self.instructions,
            retry: self.retry.unwrap_or_default().policy(),
            timeout_ms: millis(self.timeout_ms, "timeoutMs", DEFAULT_TIMEOUT_MS)?,
            idle_timeout_ms: millis(
                self.idle_timeout_ms,
                "idleTimeoutMs",
                DEFAULT_IDLE_TIMEOUT_MS,
            )?,
            context: self
                .context
                .unwrap_or_default()
                .parse(ErrorCode::InvalidConfig)?,
            tools: self.tools.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_options_give_the_defaults() {
        let s = AgentOptions {
            name: "a".into(),
            ..AgentOptions::default()
        }
        .parse()
        .unwrap();
        assert_eq!(s.retry, RetryPolicy::default());
        assert_eq!(
            (s.timeout_ms, s.idle_timeout_ms),
            (DEFAULT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS)
        );
        assert!(s.tools.is_empty());
    }

    #[test]
    fn retry_fields_replace_only_what_they_name() {
        let p = RetryOptions {
            max_retries: Some(5),
            max_delay_ms: Some(100),
            ..Default::default()
        }
        .policy();
        assert_eq!(p.max_retries, 5);
        assert_eq!(p.max_delay_ms, 100);
        assert_eq!(p.base_delay_ms, RetryPolicy::default().base_delay_ms);
        assert!(!p.mid_stream);
        let p = RetryOptions {
            mid_stream: Some(true),
            ..Default::default()
        }
        .policy();
        assert!(p.mid_stream);
        assert_eq!(p.max_retries, RetryPolicy::default().max_retries);
    }

    #[test]
    fn timeouts_must_be_positive_milliseconds() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let o = AgentOptions {
                timeout_ms: Some(bad),
                ..AgentOptions::default()
            };
            let e = o.parse().unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidConfig);
            assert!(e.message.contains("timeoutMs"), "{}", e.message);
        }
        let o = AgentOptions {
            idle_timeout_ms: Some(250.7),
            ..AgentOptions::default()
        };
        assert_eq!(o.parse().unwrap().idle_timeout_ms, 250);
    }

    #[test]
    fn a_bad_context_is_a_config_error() {
        let o = AgentOptions {
            context: Some(ContextOptions {
                budget: Some(0),
                ..Default::default()
            }),
            ..AgentOptions::default()
        };
        assert_eq!(o.parse().unwrap_err().code, ErrorCode::InvalidConfig);
    }
}
