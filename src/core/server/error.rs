//! Errors as the HTTP API answers them: a status and `{ "error": { code, message, details } }`.
//! The codes are the library's (`SESSION_NOT_FOUND`, `INVALID_*`, `LLM_*`, …) plus the few that
//! only a server has (`UNAUTHENTICATED`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `BODY_TOO_LARGE`,
//! `RATE_LIMITED`, `INVALID_JSON`, `AGENT_NOT_FOUND`).

use serde_json::{json, Value};

use crate::core::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    /// An error whose status follows from its code.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: status_for_code(code),
            code: code.to_owned(),
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The JSON body every error response carries.
    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message, "details": self.details } })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let mut details = serde_json::Map::new();
        if let Some(id) = &e.session_id {
            details.insert("session_id".into(), Value::String(id.clone()));
        }
        if let Some(status) = e.status {
            details.insert("status".into(), Value::from(status));
        }
        let details = if details.is_empty() {
            Value::Null
        } else {
            Value::Object(details)
        };
        ApiError::new(e.code.as_str(), e.message).with_details(details)
    }
}

/// The HTTP status for an error code. Unknown codes are server faults (500): a new library code
/// that nobody mapped yet must not be reported as the client's mistake.
pub fn status_for_code(code: &str) -> u16 {
    match code {
        "UNAUTHENTICATED" => 401,
        "NOT_FOUND" | "SESSION_NOT_FOUND" | "MESSAGE_NOT_FOUND" | "AGENT_NOT_FOUND" => 404,
        "METHOD_NOT_ALLOWED" => 405,
        "SESSION_EXISTS" | "SESSION_BUSY" => 409,
        "BODY_TOO_LARGE" => 413,
        "UNSUPPORTED_MEDIA_TYPE" => 415,
        "RATE_LIMITED" => 429,
        // The request's content cannot fit the agent's window: the client's to change.
        "CONTEXT_TOO_LARGE" => 400,
        // At request time a config problem is the server's (an agent that cannot be built).
        "INVALID_CONFIG" => 500,
        "LLM_TIMEOUT" => 504,
        "STORAGE_QUOTA" => 507,
        "STORAGE_UNAVAILABLE" => 503,
        c if c.starts_with("INVALID_") => 400,
        c if c.starts_with("LLM_") => 502,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorCode;

    #[test]
    fn library_codes_map_to_the_statuses_of_the_design() {
        for (code, status) in [
            ("SESSION_NOT_FOUND", 404),
            ("SESSION_EXISTS", 409),
            ("SESSION_BUSY", 409),
            ("INVALID_ID", 400),
            ("INVALID_MESSAGE", 400),
            ("INVALID_METADATA", 400),
            ("INVALID_ARGUMENT", 400),
            ("INVALID_JSON", 400),
            ("UNAUTHENTICATED", 401),
            ("BODY_TOO_LARGE", 413),
            ("RATE_LIMITED", 429),
            ("LLM_HTTP", 502),
            ("LLM_RATE_LIMITED", 502),
            ("LLM_NETWORK", 502),
            ("LLM_BAD_RESPONSE", 502),
            ("LLM_STREAM_TRUNCATED", 502),
            ("LLM_TIMEOUT", 504),
            ("STORAGE_ERROR", 500),
            ("INTERNAL", 500),
            ("SOMETHING_NEW", 500),
        ] {
            assert_eq!(status_for_code(code), status, "{code}");
        }
    }

    /// Every library code has a status decided here: a new code fails to compile this match.
    #[test]
    fn every_library_code_has_a_decided_status() {
        for &code in ErrorCode::ALL {
            let want = match code {
                ErrorCode::SessionNotFound | ErrorCode::MessageNotFound => 404,
                ErrorCode::SessionExists | ErrorCode::SessionBusy => 409,
                ErrorCode::InvalidId
                | ErrorCode::InvalidMessage
                | ErrorCode::InvalidMetadata
                | ErrorCode::InvalidArgument
                | ErrorCode::ContextTooLarge => 400,
                ErrorCode::InvalidConfig => 500,
                ErrorCode::StorageQuota => 507,
                ErrorCode::StorageUnavailable => 503,
                ErrorCode::WrongKey | ErrorCode::StorageCorrupt | ErrorCode::Storage => 500,
                ErrorCode::LlmHttp
                | ErrorCode::LlmRateLimited
                | ErrorCode::LlmStreamTruncated
                | ErrorCode::LlmBadResponse
                | ErrorCode::LlmNetwork => 502,
                ErrorCode::LlmTimeout => 504,
                // A cancelled run is answered as `finish_reason: "cancelled"`, never as an error.
                ErrorCode::Aborted => 500,
                ErrorCode::IllegalConstructor | ErrorCode::Internal => 500,
            };
            assert_eq!(status_for_code(code.as_str()), want, "{}", code.as_str());
        }
    }

    #[test]
    fn error_body_has_code_message_and_details() {
        let e =
            ApiError::new("SESSION_BUSY", "a run is active").with_details(json!({ "run": "r1" }));
        assert_eq!(e.status, 409);
        assert_eq!(
            e.body(),
            json!({ "error": { "code": "SESSION_BUSY", "message": "a run is active", "details": { "run": "r1" } } })
        );
        assert_eq!(
            ApiError::new("NOT_FOUND", "x").body()["error"]["details"],
            Value::Null
        );
    }

    #[test]
    fn library_errors_keep_their_code_and_session() {
        let e: ApiError = Error::session_not_found("s1").into();
        assert_eq!((e.status, e.code.as_str()), (404, "SESSION_NOT_FOUND"));
        assert_eq!(e.details["session_id"], "s1");
        let e: ApiError = Error::new(ErrorCode::LlmHttp, "boom")
            .with_status(500)
            .into();
        assert_eq!((e.status, e.details["status"].as_u64()), (502, Some(500)));
    }
}
