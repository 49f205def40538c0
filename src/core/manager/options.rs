//! What callers tell the session manager: its configuration (cache and retention) and the
//! options of its operations (create, import, update, query).

use serde::Deserialize;
use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::core::model::Session;
use crate::core::record_read::{via_value, Fields, FromValue, ReadResult};

pub const DEFAULT_MAX_SESSIONS: usize = 1000;
pub const DEFAULT_SESSION_TTL_MS: f64 = 3_600_000.0;
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

/// How many sessions the manager keeps in memory, and for how long an idle one stays there.
/// Eviction never loses data: an evicted session is reloaded from the store on its next use.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    pub max_sessions: usize,
    pub session_ttl_ms: f64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_ttl_ms: DEFAULT_SESSION_TTL_MS,
        }
    }
}

/// When sessions are deleted from storage: after `expire_after_ms` without a write, or
/// `max_age_ms` after creation. Checked when a session is accessed and by [`SessionManager::sweep`](super::SessionManager::sweep).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionConfig {
    pub expire_after_ms: Option<f64>,
    pub max_age_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagerConfig {
    pub cache: CacheConfig,
    pub retention: RetentionConfig,
}

/// `sessions` as callers write it: `{ maxSessions, sessionTTL }` (numbers from JavaScript).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionsOptions {
    pub max_sessions: Option<f64>,
    /// `sessionTTL` (`sessionTtl` accepted).
    pub session_ttl: Option<f64>,
}

/// `retention` as callers write it: `{ expireAfter, maxAge }` in milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionOptions {
    pub expire_after: Option<f64>,
    pub max_age: Option<f64>,
}

// Read by hand (core/record_read.rs) rather than by serde's derive: no visitor per type.
impl FromValue for SessionsOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an object")?;
        f.only(&["maxSessions", "sessionTTL"], &["sessionTtl"])?;
        Ok(SessionsOptions {
            max_sessions: f.opt_number("maxSessions")?,
            session_ttl: match f.opt_number("sessionTTL")? {
                Some(v) => Some(v),
                None => f.opt_number("sessionTtl")?,
            },
        })
    }
}

impl<'de> Deserialize<'de> for SessionsOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        via_value(d)
    }
}

impl FromValue for RetentionOptions {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "an object")?;
        f.only(&["expireAfter", "maxAge"], &[])?;
        Ok(RetentionOptions {
            expire_after: f.opt_number("expireAfter")?,
            max_age: f.opt_number("maxAge")?,
        })
    }
}

impl<'de> Deserialize<'de> for RetentionOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        via_value(d)
    }
}

fn positive(value: Option<f64>, what: &str) -> Result<Option<f64>> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(Error::invalid_config(format!(
            "{what} must be a positive number"
        ))),
        other => Ok(other),
    }
}

impl ManagerConfig {
    /// A store's or agent's `sessions` and `retention`, checked: every number positive,
    /// `maxSessions` whole. Absent parts keep the defaults.
    pub fn parse(
        sessions: Option<SessionsOptions>,
        retention: Option<RetentionOptions>,
    ) -> Result<ManagerConfig> {
        let sessions = sessions.unwrap_or_default();
        let retention = retention.unwrap_or_default();
        let mut cache = CacheConfig::default();
        if let Some(max) = positive(sessions.max_sessions, "sessions.maxSessions")? {
            if max.fract() != 0.0 {
                return Err(Error::invalid_config(
                    "sessions.maxSessions must be an integer",
                ));
            }
            cache.max_sessions = max.min(usize::MAX as f64) as usize;
        }
        if let Some(ttl) = positive(sessions.session_ttl, "sessions.sessionTTL")? {
            cache.session_ttl_ms = ttl;
        }
        Ok(ManagerConfig {
            cache,
            retention: RetentionConfig {
                expire_after_ms: positive(retention.expire_after, "retention.expireAfter")?,
                max_age_ms: positive(retention.max_age, "retention.maxAge")?,
            },
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateOptions {
    pub title: Option<String>,
    pub metadata: Option<Value>,
    /// PraisonAI's session-level `maxMessages`.
    pub max_messages: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Store under this id instead of the bundle's.
    pub id: Option<String>,
    /// Replace a session that already has the id.
    pub overwrite: bool,
}

/// `title: Some(None)` clears the title; `metadata` replaces the whole object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateOptions {
    pub title: Option<Option<String>>,
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionOrder {
    #[default]
    UpdatedAt,
    CreatedAt,
}

impl SessionOrder {
    pub(super) fn tag(self) -> char {
        match self {
            SessionOrder::UpdatedAt => 'u',
            SessionOrder::CreatedAt => 'c',
        }
    }

    pub(super) fn key(self, s: &Session) -> f64 {
        match self {
            SessionOrder::UpdatedAt => s.updated_at,
            SessionOrder::CreatedAt => s.created_at,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOptions {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    pub order: SessionOrder,
    /// Oldest first when true; newest first by default.
    pub ascending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorCode;

    #[test]
    fn absent_parts_keep_the_defaults() {
        assert_eq!(
            ManagerConfig::parse(None, None).unwrap(),
            ManagerConfig::default()
        );
    }

    #[test]
    fn numbers_are_checked_and_named_in_the_error() {
        let s = |max: f64| SessionsOptions {
            max_sessions: Some(max),
            session_ttl: None,
        };
        assert_eq!(
            ManagerConfig::parse(Some(s(5.0)), None)
                .unwrap()
                .cache
                .max_sessions,
            5
        );
        for (bad, what) in [
            (0.0, "positive"),
            (-3.0, "positive"),
            (2.5, "integer"),
            (f64::NAN, "positive"),
        ] {
            let e = ManagerConfig::parse(Some(s(bad)), None).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidConfig);
            assert!(
                e.message.contains("sessions.maxSessions") && e.message.contains(what),
                "{}",
                e.message
            );
        }
        let r = RetentionOptions {
            expire_after: Some(30.0),
            max_age: Some(-1.0),
        };
        let e = ManagerConfig::parse(None, Some(r)).unwrap_err();
        assert!(e.message.contains("retention.maxAge"), "{}", e.message);
        let r = RetentionOptions {
            expire_after: Some(30.0),
            max_age: None,
        };
        assert_eq!(
            ManagerConfig::parse(None, Some(r))
                .unwrap()
                .retention
                .expire_after_ms,
            Some(30.0)
        );
    }
}
