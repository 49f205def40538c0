//! The one error type of the crate. Every failure carries a stable string code that survives the
//! trip to JavaScript (`AgentSessionsError.code`), plus the HTTP status and retryability where
//! they apply.

use std::fmt;

/// Declares [`ErrorCode`], its string forms and [`ErrorCode::ALL`] from one list, so no code can be
/// left out of the list the contract tests compare with `types.d.ts` and the README.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Stable error codes. The string forms are part of the public API: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    SessionNotFound => "SESSION_NOT_FOUND",
    SessionExists => "SESSION_EXISTS",
    SessionBusy => "SESSION_BUSY",
    MessageNotFound => "MESSAGE_NOT_FOUND",
    InvalidId => "INVALID_ID",
    InvalidMessage => "INVALID_MESSAGE",
    InvalidMetadata => "INVALID_METADATA",
    InvalidArgument => "INVALID_ARGUMENT",
    InvalidConfig => "INVALID_CONFIG",
    StorageQuota => "STORAGE_QUOTA",
    WrongKey => "WRONG_KEY",
    StorageCorrupt => "STORAGE_CORRUPT",
    StorageUnavailable => "STORAGE_UNAVAILABLE",
    Storage => "STORAGE_ERROR",
    LlmHttp => "LLM_HTTP",
    LlmRateLimited => "LLM_RATE_LIMITED",
    LlmTimeout => "LLM_TIMEOUT",
    LlmStreamTruncated => "LLM_STREAM_TRUNCATED",
    LlmBadResponse => "LLM_BAD_RESPONSE",
    LlmNetwork => "LLM_NETWORK",
    ContextTooLarge => "CONTEXT_TOO_LARGE",
    Aborted => "ABORTED",
    IllegalConstructor => "ILLEGAL_CONSTRUCTOR",
    Internal => "INTERNAL",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with a stable code and a human message.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// HTTP status, for errors that came from an HTTP response.
    pub status: Option<u16>,
    /// Whether repeating the same call may succeed.
    pub retryable: bool,
    /// The session the error concerns, where there is one.
    pub session_id: Option<String>,
    /// A server-requested wait before retrying (from `retry-after-ms` / `Retry-After`).
    pub retry_after_ms: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            status: None,
            retryable: false,
            session_id: None,
            retry_after_ms: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    pub fn with_session(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    pub fn with_retry_after_ms(mut self, ms: Option<u64>) -> Self {
        self.retry_after_ms = ms;
        self
    }

    pub fn session_not_found(id: &str) -> Self {
        Error::new(
            ErrorCode::SessionNotFound,
            format!("session {} does not exist", crate::core::json::quote(id)),
        )
        .with_session(id)
    }

    pub fn message_not_found(session_id: &str, id: &str) -> Self {
        Error::new(
            ErrorCode::MessageNotFound,
            format!(
                "session {} has no message {}",
                crate::core::json::quote(session_id),
                crate::core::json::quote(&crate::core::ids::truncate_for_message(id))
            ),
        )
        .with_session(session_id)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidConfig, message)
    }

    pub fn invalid_message(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidMessage, message)
    }

    pub fn corrupt(session_id: Option<&str>, detail: impl fmt::Display) -> Self {
        let message = match session_id {
            Some(id) => format!(
                "stored data of session {} is corrupt: {detail}",
                crate::core::json::quote(id)
            ),
            None => format!("stored data is corrupt: {detail}"),
        };
        let mut e = Error::new(ErrorCode::StorageCorrupt, message);
        e.session_id = session_id.map(str::to_owned);
        e
    }

    /// An append found its `seq` already holding another writer's message (another tab wrote
    /// the session meanwhile). The manager re-reads the session and tries again.
    pub fn seq_taken(session_id: &str, seq: u64) -> Self {
        Error::new(
            ErrorCode::SessionBusy,
            format!(
                "position {seq} of session {} was taken by another writer",
                crate::core::json::quote(session_id)
            ),
        )
        .with_session(session_id)
        .with_retryable(true)
    }

    pub fn aborted() -> Self {
        Error::new(ErrorCode::Aborted, "the operation was aborted")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_screaming_snake_case_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for &c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(
                s.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'),
                "{s}"
            );
            assert!(seen.insert(s), "duplicate code {s}");
        }
    }

    #[test]
    fn display_leads_with_the_code() {
        let e = Error::session_not_found("abc");
        assert_eq!(e.code, ErrorCode::SessionNotFound);
        assert_eq!(e.session_id.as_deref(), Some("abc"));
        assert!(e.to_string().starts_with("SESSION_NOT_FOUND: "));
    }
}
