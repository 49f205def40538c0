//! Which endpoint a request is for. Paths are `/agents/{agent}/sessions[/{id}[/…]]`; a session id
//! is one path segment, percent-decoded (ids may contain `/`: send it as `%2F`), and checked as the
//! library checks ids. Unknown paths are 404 `NOT_FOUND`, a known path with the wrong method 405.
//! A message id (`…/messages/{messageId}/…`, the message tree's endpoints) is decoded and checked
//! the same way.

use crate::core::ids;

use super::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    CreateSession,
    ListSessions,
    GetSession,
    DeleteSession,
    ListMessages,
    SendMessage,
    StreamMessage,
    ResumeStream,
    Cancel,
    Edit,
    EditStream,
    Regenerate,
    RegenerateStream,
    Switch,
    Branches,
    Fork,
    /// `POST /agents/{agent}/chat`: the AI SDK's UI message stream protocol (`DefaultChatTransport`).
    UiChat,
    /// `GET /agents/{agent}/chat/{id}/stream`: the AI SDK's resume (`reconnectToStream`).
    UiChatResume,
    /// `GET /agents/{agent}/.well-known/agent-card.json`: the agent's A2A card.
    A2aCard,
    /// `POST /agents/{agent}/a2a`: A2A JSON-RPC.
    A2aRpc,
    Health,
}

impl Endpoint {
    pub const fn as_str(self) -> &'static str {
        match self {
            Endpoint::CreateSession => "create_session",
            Endpoint::ListSessions => "list_sessions",
            Endpoint::GetSession => "get_session",
            Endpoint::DeleteSession => "delete_session",
            Endpoint::ListMessages => "list_messages",
            Endpoint::SendMessage => "send_message",
            Endpoint::StreamMessage => "stream_message",
            Endpoint::ResumeStream => "resume_stream",
            Endpoint::Cancel => "cancel",
            Endpoint::Edit => "edit",
            Endpoint::EditStream => "edit_stream",
            Endpoint::Regenerate => "regenerate",
            Endpoint::RegenerateStream => "regenerate_stream",
            Endpoint::Switch => "switch",
            Endpoint::Branches => "branches",
            Endpoint::Fork => "fork",
            Endpoint::UiChat => "ui_chat",
            Endpoint::UiChatResume => "ui_chat_resume",
            Endpoint::A2aCard => "a2a_card",
            Endpoint::A2aRpc => "a2a",
            Endpoint::Health => "health",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    pub agent: Option<String>,
    pub session_id: Option<String>,
    pub message_id: Option<String>,
}

/// Agent names are config keys: letters, digits, `-`, `_`, `.`, 1 to 64 of them.
pub fn valid_agent_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The endpoint for `method` and `path` (the URL's path, without the query).
pub fn match_route(method: &str, path: &str) -> Result<Route, ApiError> {
    let not_found = || ApiError::new("NOT_FOUND", format!("no endpoint at {}", clip(path)));
    if path == "/health" || path == "/healthz" {
        return allow(
            method,
            &["GET"],
            Route {
                endpoint: Endpoint::Health,
                agent: None,
                session_id: None,
                message_id: None,
            },
        );
    }
    let rest = path.strip_prefix("/agents/").ok_or_else(not_found)?;
    let segs: Vec<&str> = rest.split('/').collect();
    let agent = percent_decode(segs[0]).ok_or_else(not_found)?;
    if !valid_agent_name(&agent) {
        return Err(ApiError::new(
            "AGENT_NOT_FOUND",
            format!("unknown agent {}", crate::core::json::quote(&clip(&agent))),
        ));
    }
    let route = |endpoint, session_id| Route {
        endpoint,
        agent: Some(agent.clone()),
        session_id,
        message_id: None,
    };
    // The protocols of other libraries, beside the sessions API.
    match (segs.get(1).copied(), &segs[2.min(segs.len())..]) {
        (Some("sessions"), _) => {}
        (Some("chat"), []) => return allow(method, &["POST"], route(Endpoint::UiChat, None)),
        (Some("chat"), [raw, "stream"]) => {
            let id = decode_id("session", raw)?;
            return allow(method, &["GET"], route(Endpoint::UiChatResume, Some(id)));
        }
        (Some(".well-known"), ["agent-card.json"]) => {
            return allow(method, &["GET"], route(Endpoint::A2aCard, None))
        }
        (Some("a2a"), []) => return allow(method, &["POST"], route(Endpoint::A2aRpc, None)),
        _ => return Err(not_found()),
    }
    let id = match segs.get(2) {
        None => {
            return match method {
                "POST" => Ok(route(Endpoint::CreateSession, None)),
                "GET" => Ok(route(Endpoint::ListSessions, None)),
                _ => Err(method_not_allowed(&["GET", "POST"])),
            }
        }
        Some(raw) => decode_id("session", raw)?,
    };
    let tail: Vec<&str> = segs[3..].to_vec();
    let endpoint = match (tail.as_slice(), method) {
        ([], "GET") => Endpoint::GetSession,
        ([], "DELETE") => Endpoint::DeleteSession,
        ([], _) => return Err(method_not_allowed(&["GET", "DELETE"])),
        (["messages"], "GET") => Endpoint::ListMessages,
        (["messages"], "POST") => Endpoint::SendMessage,
        (["messages"], _) => return Err(method_not_allowed(&["GET", "POST"])),
        (["messages", "stream"], "POST") => Endpoint::StreamMessage,
        (["messages", "stream"], _) => return Err(method_not_allowed(&["POST"])),
        (["stream"], "GET") => Endpoint::ResumeStream,
        (["stream"], _) => return Err(method_not_allowed(&["GET"])),
        (["cancel"], "POST") => Endpoint::Cancel,
        (["cancel"], _) => return Err(method_not_allowed(&["POST"])),
        (["fork"], "POST") => Endpoint::Fork,
        (["fork"], _) => return Err(method_not_allowed(&["POST"])),
        (["messages", mid, action @ ..], _) => {
            let (endpoint, allowed) = match *action {
                ["edit"] => (Endpoint::Edit, "POST"),
                ["edit", "stream"] => (Endpoint::EditStream, "POST"),
                ["regenerate"] => (Endpoint::Regenerate, "POST"),
                ["regenerate", "stream"] => (Endpoint::RegenerateStream, "POST"),
                ["switch"] => (Endpoint::Switch, "POST"),
                ["branches"] => (Endpoint::Branches, "GET"),
                _ => return Err(not_found()),
            };
            if method != allowed {
                return Err(method_not_allowed(&[allowed]));
            }
            return Ok(Route {
                message_id: Some(decode_id("message", mid)?),
                ..route(endpoint, Some(id))
            });
        }
        _ => return Err(not_found()),
    };
    Ok(route(endpoint, Some(id)))
}

/// A percent-decoded path segment holding an id, checked as the library checks ids.
fn decode_id(kind: &str, raw: &str) -> Result<String, ApiError> {
    let id = percent_decode(raw).ok_or_else(|| {
        ApiError::new(
            "INVALID_ID",
            format!("the {kind} id is not valid percent-encoded UTF-8"),
        )
    })?;
    ids::validate_id(kind, &id).map_err(ApiError::from)?;
    Ok(id)
}

fn allow(method: &str, allowed: &[&str], route: Route) -> Result<Route, ApiError> {
    if allowed.contains(&method) {
        Ok(route)
    } else {
        Err(method_not_allowed(allowed))
    }
}

fn method_not_allowed(allowed: &[&str]) -> ApiError {
    ApiError::new(
        "METHOD_NOT_ALLOWED",
        format!("allowed: {}", allowed.join(", ")),
    )
    .with_details(serde_json::json!({ "allow": allowed }))
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `%XX` decoding of one path segment; `None` when an escape is malformed or the bytes are not
/// UTF-8. `+` stays `+` (it means a space only in query strings).
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(method: &str, path: &str) -> (Endpoint, Option<String>, Option<String>) {
        let r = match_route(method, path).unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
        (r.endpoint, r.agent, r.session_id)
    }

    fn err(method: &str, path: &str) -> (u16, String) {
        let e = match_route(method, path).expect_err(path);
        (e.status, e.code)
    }

    #[test]
    fn every_endpoint_of_the_design_matches() {
        let a = Some("assistant".to_owned());
        let s = Some("sess_abc123".to_owned());
        assert_eq!(
            ok("POST", "/agents/assistant/sessions"),
            (Endpoint::CreateSession, a.clone(), None)
        );
        assert_eq!(
            ok("GET", "/agents/assistant/sessions"),
            (Endpoint::ListSessions, a.clone(), None)
        );
        let base = "/agents/assistant/sessions/sess_abc123";
        assert_eq!(
            ok("GET", base),
            (Endpoint::GetSession, a.clone(), s.clone())
        );
        assert_eq!(
            ok("DELETE", base),
            (Endpoint::DeleteSession, a.clone(), s.clone())
        );
        assert_eq!(
            ok("GET", &format!("{base}/messages")),
            (Endpoint::ListMessages, a.clone(), s.clone())
        );
        assert_eq!(
            ok("POST", &format!("{base}/messages")),
            (Endpoint::SendMessage, a.clone(), s.clone())
        );
        assert_eq!(
            ok("POST", &format!("{base}/messages/stream")),
            (Endpoint::StreamMessage, a.clone(), s.clone())
        );
        assert_eq!(
            ok("GET", &format!("{base}/stream")),
            (Endpoint::ResumeStream, a.clone(), s.clone())
        );
        assert_eq!(
            ok("POST", &format!("{base}/cancel")),
            (Endpoint::Cancel, a, s)
        );
        assert_eq!(ok("GET", "/health").0, Endpoint::Health);
    }

    #[test]
    fn the_ai_sdk_and_a2a_endpoints_match() {
        let a = Some("assistant".to_owned());
        assert_eq!(
            ok("POST", "/agents/assistant/chat"),
            (Endpoint::UiChat, a.clone(), None)
        );
        assert_eq!(
            ok("GET", "/agents/assistant/chat/c%2F1/stream"),
            (Endpoint::UiChatResume, a.clone(), Some("c/1".to_owned()))
        );
        assert_eq!(
            ok("GET", "/agents/assistant/.well-known/agent-card.json"),
            (Endpoint::A2aCard, a.clone(), None)
        );
        assert_eq!(
            ok("POST", "/agents/assistant/a2a"),
            (Endpoint::A2aRpc, a, None)
        );
        assert_eq!(
            err("GET", "/agents/assistant/chat"),
            (405, "METHOD_NOT_ALLOWED".into())
        );
        assert_eq!(err("POST", "/agents/assistant/chat/c1/stream").0, 405);
        assert_eq!(err("GET", "/agents/assistant/a2a").0, 405);
        assert_eq!(err("GET", "/agents/assistant/chat/c1").0, 404);
        assert_eq!(
            err("GET", "/agents/assistant/.well-known/other.json").0,
            404
        );
        assert_eq!(
            err("GET", "/agents/assistant/chat/%ZZ/stream").1,
            "INVALID_ID"
        );
    }

    #[test]
    fn the_message_tree_endpoints_match_with_their_message_id() {
        let base = "/agents/assistant/sessions/s%2F1";
        for (method, tail, want) in [
            ("POST", "messages/msg_1/edit", Endpoint::Edit),
            ("POST", "messages/msg_1/edit/stream", Endpoint::EditStream),
            ("POST", "messages/msg_1/regenerate", Endpoint::Regenerate),
            (
                "POST",
                "messages/msg_1/regenerate/stream",
                Endpoint::RegenerateStream,
            ),
            ("POST", "messages/msg_1/switch", Endpoint::Switch),
            ("GET", "messages/msg_1/branches", Endpoint::Branches),
        ] {
            let r = match_route(method, &format!("{base}/{tail}"))
                .unwrap_or_else(|e| panic!("{tail}: {e:?}"));
            assert_eq!(r.endpoint, want, "{tail}");
            assert_eq!(r.session_id.as_deref(), Some("s/1"));
            assert_eq!(r.message_id.as_deref(), Some("msg_1"));
        }
        let r = match_route("POST", &format!("{base}/fork")).unwrap();
        assert_eq!((r.endpoint, r.message_id), (Endpoint::Fork, None));
        assert_eq!(
            ok("GET", &format!("{base}/messages")).0,
            Endpoint::ListMessages
        );
        // A message id named like an action is still a message id.
        let r = match_route("POST", &format!("{base}/messages/stream/edit")).unwrap();
        assert_eq!(r.message_id.as_deref(), Some("stream"));
        assert_eq!(
            match_route("POST", &format!("{base}/messages/a%2Fb%20c/switch"))
                .unwrap()
                .message_id
                .as_deref(),
            Some("a/b c")
        );
    }

    #[test]
    fn message_tree_paths_refuse_bad_ids_unknown_actions_and_wrong_methods() {
        let base = "/agents/a/sessions/s";
        for (method, tail, want) in [
            ("POST", "messages/%ZZ/edit", (400, "INVALID_ID")),
            ("POST", "messages/%0A/regenerate", (400, "INVALID_ID")),
            ("POST", "messages//edit", (400, "INVALID_ID")),
            ("GET", "messages/msg_1", (404, "NOT_FOUND")),
            ("POST", "messages/msg_1/other", (404, "NOT_FOUND")),
            ("POST", "messages/msg_1/edit/other", (404, "NOT_FOUND")),
            ("GET", "messages/msg_1/edit", (405, "METHOD_NOT_ALLOWED")),
            (
                "GET",
                "messages/msg_1/regenerate/stream",
                (405, "METHOD_NOT_ALLOWED"),
            ),
            (
                "POST",
                "messages/msg_1/branches",
                (405, "METHOD_NOT_ALLOWED"),
            ),
            ("GET", "fork", (405, "METHOD_NOT_ALLOWED")),
            ("POST", "fork/x", (404, "NOT_FOUND")),
        ] {
            let (status, code) = err(method, &format!("{base}/{tail}"));
            assert_eq!((status, code.as_str()), want, "{method} {tail}");
        }
        let e = match_route("DELETE", &format!("{base}/messages/m/branches")).unwrap_err();
        assert_eq!(e.details["allow"], serde_json::json!(["GET"]));
    }

    #[test]
    fn session_ids_are_percent_decoded_and_may_hold_slashes() {
        let (_, _, id) = ok("GET", "/agents/a/sessions/org-1%2Fuser%203");
        assert_eq!(id.as_deref(), Some("org-1/user 3"));
        assert_eq!(
            ok("GET", "/agents/a/sessions/caf%C3%A9").2.as_deref(),
            Some("café")
        );
    }

    #[test]
    fn bad_ids_are_invalid_id() {
        assert_eq!(
            err("GET", "/agents/a/sessions/%ZZ"),
            (400, "INVALID_ID".into())
        );
        assert_eq!(
            err("GET", "/agents/a/sessions/%FF"),
            (400, "INVALID_ID".into())
        );
        assert_eq!(
            err("GET", "/agents/a/sessions/%0A"),
            (400, "INVALID_ID".into())
        );
        assert_eq!(
            err("GET", "/agents/a/sessions/%20%20"),
            (400, "INVALID_ID".into())
        );
        let long = "x".repeat(129);
        assert_eq!(
            err("GET", &format!("/agents/a/sessions/{long}")),
            (400, "INVALID_ID".into())
        );
        // An empty segment is an empty id, not the collection.
        assert_eq!(
            err("GET", "/agents/a/sessions/"),
            (400, "INVALID_ID".into())
        );
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_eq!(err("GET", "/"), (404, "NOT_FOUND".into()));
        assert_eq!(err("GET", "/agents/a"), (404, "NOT_FOUND".into()));
        assert_eq!(err("GET", "/agents/a/things"), (404, "NOT_FOUND".into()));
        assert_eq!(
            err("GET", "/agents/a/sessions/s/other"),
            (404, "NOT_FOUND".into())
        );
        assert_eq!(
            err("GET", "/agents/a/sessions/s/messages/stream/x"),
            (404, "NOT_FOUND".into())
        );
        assert_eq!(
            err("GET", "/agents/bad%20name/sessions"),
            (404, "AGENT_NOT_FOUND".into())
        );
        assert_eq!(
            err("PUT", "/agents/a/sessions"),
            (405, "METHOD_NOT_ALLOWED".into())
        );
        assert_eq!(
            err("POST", "/agents/a/sessions/s"),
            (405, "METHOD_NOT_ALLOWED".into())
        );
        assert_eq!(
            err("GET", "/agents/a/sessions/s/cancel"),
            (405, "METHOD_NOT_ALLOWED".into())
        );
        assert_eq!(
            err("GET", "/agents/a/sessions/s/messages/stream"),
            (405, "METHOD_NOT_ALLOWED".into())
        );
        assert_eq!(
            err("POST", "/agents/a/sessions/s/stream"),
            (405, "METHOD_NOT_ALLOWED".into())
        );
        let e = match_route("PATCH", "/agents/a/sessions/s").unwrap_err();
        assert_eq!(e.details["allow"], serde_json::json!(["GET", "DELETE"]));
    }
}
