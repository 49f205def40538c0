//! A session exported as one versioned JSON document, and the checks an import applies to one.
//!
//! The bundle is plain data a person can read: the session's public fields, every message (with
//! its `seq`, status and run id), the runs and the summaries. An import validates all of it as if
//! each message were added anew (roles, content, ids, metadata), so a hand-edited or hostile file
//! gets the same typed errors as the API and nothing half-written.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::core::error::{Error, Result};
use crate::core::ids;
use crate::core::io::RandomSource;
use crate::core::message_validation::build_message;
use crate::core::metadata::{sanitize_metadata, validate_title};
use crate::core::model::{Message, Millis, NewMessage, Parent, Run, Session, Summary, Usage};
use crate::core::record_read::{Fields, FromValue, ReadResult};
use crate::core::tree::Tree;

/// The `format` field of every bundle.
pub const BUNDLE_FORMAT: &str = "agent-sessions/session";
/// The newest bundle version this build reads and the one it writes. Version 2 carries the
/// message tree (`parentSeq` on a message, the session's `headSeq`); version 1 is the same
/// without them, a linear history, and still reads as it always did.
pub const BUNDLE_VERSION: u32 = 2;

/// The session part of a bundle: its public fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleSession {
    pub id: String,
    pub title: Option<String>,
    pub metadata: Map<String, Value>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub usage: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u32>,
    /// The active leaf of a history with branches (version 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub format: String,
    pub version: u32,
    pub exported_at: Millis,
    pub session: BundleSession,
    pub messages: Vec<Message>,
    pub runs: Vec<Run>,
    pub summaries: Vec<Summary>,
}

// Read by hand (core/record_read.rs), with serde's `deny_unknown_fields` and its messages: a
// bundle is a person's file, and a misspelt field is an error, not something dropped.
impl FromValue for BundleSession {
    fn from_value(value: &Value) -> ReadResult<BundleSession> {
        let f = Fields::of(value, "a bundle's session")?;
        f.only(
            &[
                "id",
                "title",
                "metadata",
                "createdAt",
                "updatedAt",
                "usage",
                "maxMessages",
                "headSeq",
            ],
            &[],
        )?;
        Ok(BundleSession {
            id: f.string("id")?,
            title: f.opt_string("title")?,
            metadata: f.object_or_empty("metadata")?,
            created_at: f.number("createdAt")?,
            updated_at: f.number("updatedAt")?,
            usage: f.opt("usage")?.unwrap_or_default(),
            max_messages: f.opt_count32("maxMessages")?,
            head_seq: f.opt_count("headSeq")?,
        })
    }
}

impl FromValue for Bundle {
    fn from_value(value: &Value) -> ReadResult<Bundle> {
        let f = Fields::of(value, "a session bundle")?;
        f.only(
            &[
                "format",
                "version",
                "exportedAt",
                "session",
                "messages",
                "runs",
                "summaries",
            ],
            &[],
        )?;
        Ok(Bundle {
            format: f.string("format")?,
            version: f.count32("version")?,
            exported_at: f.number("exportedAt")?,
            session: f.nested("session")?,
            messages: f.list("messages")?,
            runs: f.list_or_empty("runs")?,
            summaries: f.list_or_empty("summaries")?,
        })
    }
}

crate::deserialize_via_value!(BundleSession, Bundle);

impl Bundle {
    pub fn new(
        session: &Session,
        messages: Vec<Message>,
        runs: Vec<Run>,
        summaries: Vec<Summary>,
        now: Millis,
    ) -> Bundle {
        Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            version: BUNDLE_VERSION,
            exported_at: now,
            session: BundleSession {
                id: session.id.clone(),
                title: session.title.clone(),
                metadata: session.metadata.clone(),
                created_at: session.created_at,
                updated_at: session.updated_at,
                usage: session.usage,
                max_messages: session.max_messages,
                head_seq: session.head_seq,
            },
            messages,
            runs,
            summaries,
        }
    }
}

/// A bundle checked and rewritten for its target id, ready to be written.
#[derive(Debug)]
pub struct Import {
    pub session: Session,
    pub messages: Vec<Message>,
    pub runs: Vec<Run>,
    pub summaries: Vec<Summary>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::invalid_argument(format!("not a valid session export: {}", msg.into()))
}

fn time(t: Millis, what: &str) -> Result<Millis> {
    if t.is_finite() && t >= 0.0 {
        Ok(t)
    } else {
        Err(bad(format!("{what} is not a time in milliseconds")))
    }
}

/// Checks a bundle and prepares it to be stored under `target_id` (its own id when `None`).
pub fn prepare_import(
    bundle: Bundle,
    target_id: Option<&str>,
    rng: &dyn RandomSource,
) -> Result<Import> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(bad(format!(
            "format is {}, expected {}",
            crate::core::json::quote(&ids::truncate_for_message(&bundle.format)),
            crate::core::json::quote(BUNDLE_FORMAT)
        )));
    }
    if bundle.version == 0 || bundle.version > BUNDLE_VERSION {
        return Err(bad(format!(
            "version {} is not one this build reads (1..={BUNDLE_VERSION})",
            bundle.version
        )));
    }
    let source_id = bundle.session.id;
    ids::validate_session_id(&source_id)?;
    let id = match target_id {
        Some(t) => {
            ids::validate_session_id(t)?;
            t.to_owned()
        }
        None => source_id.clone(),
    };
    if let Some(t) = &bundle.session.title {
        validate_title(t)?;
    }
    let metadata = sanitize_metadata(Some(Value::Object(bundle.session.metadata)))?;
    let created_at = time(bundle.session.created_at, "session.createdAt")?;
    let updated_at = time(bundle.session.updated_at, "session.updatedAt")?.max(created_at);

    let mut session = Session::new(id.clone(), created_at);
    session.title = bundle.session.title;
    session.metadata = metadata;
    session.updated_at = updated_at;
    session.usage = bundle.session.usage;
    session.max_messages = bundle.session.max_messages;

    let mut messages = Vec::with_capacity(bundle.messages.len());
    for m in bundle.messages {
        if m.session_id != source_id {
            return Err(bad(format!("message {} belongs to another session", m.id)));
        }
        if messages.last().is_some_and(|p: &Message| p.seq >= m.seq) {
            return Err(bad("messages are not in strictly increasing seq order"));
        }
        // Validate as if added anew, at its own position, under its own parent.
        let parent = match m.parent {
            Parent::Seq(p)
                if messages
                    .binary_search_by_key(&p, |x: &Message| x.seq)
                    .is_err() =>
            {
                return Err(bad(format!(
                    "message {} names a parent ({p}) that is not an earlier message",
                    m.id
                )))
            }
            other => other,
        };
        if bundle.version < 2 && parent != Parent::Previous {
            return Err(bad("parentSeq needs a version 2 bundle"));
        }
        let mut at = session.clone();
        at.next_seq = m.seq;
        let input = NewMessage {
            id: Some(m.id),
            role: m.role.as_str().to_owned(),
            content: Some(Value::String(m.content)),
            name: m.name,
            tool_calls: m.tool_calls,
            tool_call_id: m.tool_call_id,
            status: Some(m.status),
            created_at: Some(m.created_at),
            run_id: m.run_id,
            metadata: m.metadata.map(Value::Object),
            payload: m.payload,
        };
        let mut message = build_message(&at, input, created_at, rng)?;
        message.parent = parent;
        messages.push(message);
    }
    // Ids once each (sorted copies side by side: no hash set in the module).
    let mut ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    crate::core::sort::sort_by(&mut ids, |a, b| a.cmp(b));
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(format!("message id {} appears twice", w[0])));
    }
    session.message_count = messages.len() as u64;
    session.next_seq = messages.last().map_or(0, |m| m.seq + 1);
    if let Some(head) = bundle.session.head_seq {
        let tree = Tree::new(&messages);
        let leaf = tree.by_seq(head).ok_or_else(|| {
            bad(format!(
                "session.headSeq {head} is not a message of the export"
            ))
        })?;
        session.head_seq = Some(head);
        session.first_seq = Some(messages.first().map_or(0, |m| m.seq));
        session.message_count = tree.path_to(leaf).len() as u64;
    }

    let mut runs = Vec::with_capacity(bundle.runs.len());
    for mut r in bundle.runs {
        if r.session_id != source_id {
            return Err(bad(format!("run {} belongs to another session", r.id)));
        }
        ids::validate_id("run", &r.id).map_err(|e| bad(e.message))?;
        time(r.created_at, "run.createdAt")?;
        r.session_id = id.clone();
        runs.push(r);
    }
    let mut summaries = Vec::with_capacity(bundle.summaries.len());
    for mut s in bundle.summaries {
        if s.session_id != source_id {
            return Err(bad(format!("summary {} belongs to another session", s.id)));
        }
        ids::validate_id("summary", &s.id).map_err(|e| bad(e.message))?;
        if s.covers
            .iter()
            .any(|c| ids.binary_search(&c.as_str()).is_err())
        {
            return Err(bad(format!(
                "summary {} covers a message that is not in the export",
                s.id
            )));
        }
        s.session_id = id.clone();
        summaries.push(s);
    }
    for m in &mut messages {
        m.session_id = id.clone();
    }
    Ok(Import {
        session,
        messages,
        runs,
        summaries,
    })
}
