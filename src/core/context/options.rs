//! The context options as callers write them (an agent's `context`, `previewContext`'s overrides),
//! checked into a [`ContextConfig`].

use serde_json::Value;

use crate::core::record_read::{Fields, FromValue, ReadResult};

use super::{
    ContextConfig, Strategy, DEFAULT_BUDGET, DEFAULT_TARGET, DEFAULT_THRESHOLD, DEFAULT_WINDOW_SIZE,
};
use crate::core::error::{Error, ErrorCode, Result};

/// `{ strategy, windowSize, budget, maxMessages, threshold, target }`; Hector's `window_size` is
/// accepted too. Unknown keys are refused, so a misspelt option is not silently ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextOptions {
    pub strategy: Option<String>,
    pub window_size: Option<u32>,
    pub budget: Option<u32>,
    pub max_messages: Option<u32>,
    pub threshold: Option<f64>,
    pub target: Option<f64>,
}

impl FromValue for ContextOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an options object")?;
        f.only(
            &[
                "strategy",
                "windowSize",
                "budget",
                "maxMessages",
                "threshold",
                "target",
            ],
            &["window_size"],
        )?;
        ContextOptions::read(&f)
    }
}

impl ContextOptions {
    /// The context fields of an options object whose other keys the caller has checked
    /// (`previewContext`'s options are these and more).
    pub fn read(f: &Fields) -> ReadResult<ContextOptions> {
        Ok(ContextOptions {
            strategy: f.opt_string("strategy")?,
            window_size: f.alias_count32("windowSize", "window_size")?,
            budget: f.opt_count32("budget")?,
            max_messages: f.opt_count32("maxMessages")?,
            threshold: f.opt_number("threshold")?,
            target: f.opt_number("target")?,
        })
    }
}

crate::deserialize_via_value!(ContextOptions);

impl ContextOptions {
    /// The strategy these options describe, checked; a mistake is an error with `code`
    /// (`INVALID_CONFIG` for an agent's configuration, `INVALID_ARGUMENT` for a call's options).
    pub fn parse(self, code: ErrorCode) -> Result<ContextConfig> {
        let bad = |m: String| Error::new(code, m);
        let budget = match self.budget {
            Some(0) => {
                return Err(bad(
                    "context budget must be a positive number of tokens".into()
                ))
            }
            b => b.unwrap_or(DEFAULT_BUDGET),
        };
        if self.window_size == Some(0) || self.max_messages == Some(0) {
            return Err(bad("windowSize and maxMessages must be at least 1".into()));
        }
        let strategy = match self.strategy.as_deref() {
            None | Some("full") => Strategy::Full,
            Some("buffer_window") => Strategy::BufferWindow {
                window_size: self.window_size.map_or(DEFAULT_WINDOW_SIZE, |w| w as usize),
            },
            // PraisonAI's `strategy: "recent"` is a token window.
            Some("token_window") | Some("recent") => Strategy::TokenWindow { budget },
            Some("summary_buffer") => {
                let threshold = self.threshold.unwrap_or(DEFAULT_THRESHOLD);
                let target = self.target.unwrap_or(DEFAULT_TARGET.min(threshold));
                if !(target > 0.0 && target <= threshold && threshold <= 1.0) {
                    // The numbers as JSON writes them: `f64`'s `Display` would link core's
                    // float formatter (~3 KB gzip) for this one message.
                    let (t, h) = (Value::from(target), Value::from(threshold));
                    return Err(bad(format!(
                        "summary_buffer needs 0 < target <= threshold <= 1 (got target {t}, threshold {h})"
                    )));
                }
                Strategy::SummaryBuffer {
                    budget,
                    threshold,
                    target,
                }
            }
            Some(other) => {
                return Err(bad(format!(
                    "context strategy {} is unknown (expected full, buffer_window, token_window or summary_buffer)", crate::core::json::quote(other))))
            }
        };
        Ok(ContextConfig {
            strategy,
            max_messages: self.max_messages.map(|m| m as usize),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ContextConfig> {
        let o: ContextOptions =
            serde_json::from_str(json).map_err(|e| Error::invalid_config(e.to_string()))?;
        o.parse(ErrorCode::InvalidConfig)
    }

    #[test]
    fn no_options_mean_the_full_history() {
        assert_eq!(parse("{}").unwrap(), ContextConfig::default());
    }

    #[test]
    fn each_strategy_gets_its_defaults() {
        assert_eq!(
            parse(r#"{"strategy":"buffer_window"}"#).unwrap().strategy,
            Strategy::BufferWindow {
                window_size: DEFAULT_WINDOW_SIZE
            }
        );
        assert_eq!(
            parse(r#"{"strategy":"token_window"}"#).unwrap().strategy,
            Strategy::TokenWindow {
                budget: DEFAULT_BUDGET
            }
        );
        assert_eq!(
            parse(r#"{"strategy":"summary_buffer","budget":400}"#)
                .unwrap()
                .strategy,
            Strategy::SummaryBuffer {
                budget: 400,
                threshold: DEFAULT_THRESHOLD,
                target: DEFAULT_TARGET
            }
        );
        // A threshold below the default target pulls the target down with it.
        assert_eq!(
            parse(r#"{"strategy":"summary_buffer","threshold":0.5}"#)
                .unwrap()
                .strategy,
            Strategy::SummaryBuffer {
                budget: DEFAULT_BUDGET,
                threshold: 0.5,
                target: 0.5
            }
        );
    }

    #[test]
    fn recent_is_a_token_window_and_hectors_window_size_spelling_is_accepted() {
        assert_eq!(
            parse(r#"{"strategy":"recent","budget":100}"#)
                .unwrap()
                .strategy,
            Strategy::TokenWindow { budget: 100 }
        );
        let c = parse(r#"{"strategy":"buffer_window","window_size":7,"maxMessages":5}"#).unwrap();
        assert_eq!(c.strategy, Strategy::BufferWindow { window_size: 7 });
        assert_eq!(c.max_messages, Some(5));
    }

    #[test]
    fn mistakes_are_refused_with_the_callers_code() {
        for bad in [
            r#"{"strategy":"summary_buffer","threshold":0.5,"target":0.9}"#,
            r#"{"strategy":"summary_buffer","threshold":1.5}"#,
            r#"{"strategy":"token_window","budget":0}"#,
            r#"{"strategy":"buffer_window","windowSize":0}"#,
            r#"{"maxMessages":0}"#,
            r#"{"strategy":"sliding"}"#,
            r#"{"strategy":"token_window","budjet":10}"#,
        ] {
            assert_eq!(
                parse(bad).unwrap_err().code,
                ErrorCode::InvalidConfig,
                "{bad}"
            );
        }
        let o = ContextOptions {
            strategy: Some("sliding".into()),
            ..ContextOptions::default()
        };
        assert_eq!(
            o.parse(ErrorCode::InvalidArgument).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }
}
