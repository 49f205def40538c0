//! What callers tell the session manager: its configuration (cache and retention) and the
//! options of its operations (create, import, update, query).

use serde_json::Value;

use crate::core::model::Session;

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
