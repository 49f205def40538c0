//! What the model sees: context-window strategies, token estimation and calibration.
//!
//! - [`estimate`]: token estimates, computed once per message when it is stored;
//! - [`window`]: the newest messages within a limit, and the invariants every strategy keeps;
//! - [`summary`]: `summary_buffer`'s planning and its summary request;
//! - [`options`]: the strategy options as callers write them, checked;
//! - [`build`]: reading only what a strategy needs from storage and putting the context together
//!   (used by the run engine and by `previewContext` alike).

pub mod build;
pub mod estimate;
pub mod options;
pub mod summary;
pub mod window;

pub use estimate::{estimate_message_tokens, estimate_text_tokens, MESSAGE_OVERHEAD_TOKENS};
pub use options::ContextOptions;

use serde::Serialize;

/// Hector's strategy names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// The whole history.
    Full,
    /// The newest `window_size` messages.
    BufferWindow { window_size: usize },
    /// The newest messages within `budget` tokens (system prompt and tools included).
    TokenWindow { budget: u32 },
    /// When the context passes `threshold × budget`, the oldest turns are summarised so that the
    /// summary and the newest turns fit in `target × budget`.
    SummaryBuffer {
        budget: u32,
        threshold: f64,
        target: f64,
    },
}

pub const DEFAULT_BUDGET: u32 = 8000;
pub const DEFAULT_WINDOW_SIZE: usize = 20;
pub const DEFAULT_THRESHOLD: f64 = 0.85;
pub const DEFAULT_TARGET: f64 = 0.7;

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Full => "full",
            Strategy::BufferWindow { .. } => "buffer_window",
            Strategy::TokenWindow { .. } => "token_window",
            Strategy::SummaryBuffer { .. } => "summary_buffer",
        }
    }
}

/// A strategy, and a cap on the number of messages that applies on top of it (a session's or a
/// call's `maxMessages`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextConfig {
    pub strategy: Strategy,
    pub max_messages: Option<usize>,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            strategy: Strategy::Full,
            max_messages: None,
        }
    }
}

impl ContextConfig {
    /// The tighter of this cap and another (e.g. the session's `maxMessages`).
    pub fn capped(mut self, max_messages: Option<usize>) -> Self {
        self.max_messages = match (self.max_messages, max_messages) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }
}

/// How the provider's token counts compare with the estimates, learnt from the session's runs
/// (`reported input tokens / estimated request tokens`, averaged over the recent runs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    pub ratio: f64,
    pub samples: u32,
}

impl crate::core::record_read::FromValue for Calibration {
    fn from_value(value: &serde_json::Value) -> crate::core::record_read::ReadResult<Calibration> {
        let f = crate::core::record_read::Fields::of(value, "a calibration")?;
        Ok(Calibration {
            ratio: f.number("ratio")?,
            samples: f.count32("samples")?,
        })
    }
}

crate::deserialize_via_value!(Calibration);

pub const MIN_RATIO: f64 = 0.25;
pub const MAX_RATIO: f64 = 4.0;
/// Requests smaller than this are dominated by fixed overheads the estimate does not model.
pub const MIN_CALIBRATION_TOKENS: u64 = 32;
/// The running average weighs the newest of this many runs.
const CALIBRATION_WINDOW: u32 = 8;

impl Calibration {
    /// Folds one run's `reported / estimated` into the running ratio; `None` when the run says
    /// nothing useful (no usage, a tiny request).
    pub fn update(
        previous: Option<Calibration>,
        estimated: u64,
        reported: u64,
    ) -> Option<Calibration> {
        if estimated < MIN_CALIBRATION_TOKENS || reported == 0 {
            return previous;
        }
        let observed = (reported as f64 / estimated as f64).clamp(MIN_RATIO, MAX_RATIO);
        Some(match previous {
            None => Calibration {
                ratio: observed,
                samples: 1,
            },
            Some(c) => {
                let n = (c.samples + 1).min(CALIBRATION_WINDOW);
                Calibration {
                    ratio: c.ratio + (observed - c.ratio) / f64::from(n),
                    samples: c.samples.saturating_add(1),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_follows_the_reported_usage_and_ignores_tiny_requests() {
        assert_eq!(Calibration::update(None, 10, 40), None);
        let c = Calibration::update(None, 100, 150).unwrap();
        assert_eq!((c.ratio, c.samples), (1.5, 1));
        let c = Calibration::update(Some(c), 100, 100).unwrap();
        assert!((c.ratio - 1.25).abs() < 1e-9);
        // Absurd reports are clamped.
        let c = Calibration::update(None, 100, 100_000).unwrap();
        assert_eq!(c.ratio, MAX_RATIO);
        // Many runs: the ratio converges on what the provider reports.
        let mut c = None;
        for _ in 0..50 {
            c = Calibration::update(c, 1000, 1200);
        }
        assert!((c.unwrap().ratio - 1.2).abs() < 1e-6);
    }

    #[test]
    fn a_session_cap_tightens_a_strategy() {
        let c = ContextConfig::default().capped(Some(50));
        assert_eq!(c.max_messages, Some(50));
        let c = ContextConfig {
            strategy: Strategy::Full,
            max_messages: Some(10),
        }
        .capped(Some(50));
        assert_eq!(c.max_messages, Some(10));
    }
}
