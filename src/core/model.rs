//! The data the library keeps: sessions, messages, runs, usage and summaries. These are both the
//! persisted records (serde, camelCase JSON) and, through views, what JavaScript receives.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::record_read::{via_value, Fields, FromValue, ReadResult};

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()` gives them.
pub type Millis = f64;

/// Version of the persisted record layout, written into every session record.
pub const RECORD_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "tool" => Some(Role::Tool),
            _ => None,
        }
    }
}

/// Whether a message is whole. A stream that was aborted or failed leaves its partial text stored
/// as `Interrupted` or `Error`, never passed off as `Complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    #[default]
    Complete,
    Interrupted,
    Error,
}

/// A tool call requested by the model. `arguments` is the JSON text the model produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Token usage as a provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// Where a message hangs in its session's tree of alternatives (edits, regenerated answers).
/// A session without edits never writes anything but [`Parent::Previous`], so its records are
/// exactly what they were before the tree existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parent {
    /// The message stored before it (the next lower `seq`), or none for a session's first.
    #[default]
    Previous,
    /// None: the message starts the conversation (an edit of a first message).
    Root,
    /// The message at this `seq`.
    Seq(u64),
}

impl Parent {
    pub fn is_previous(&self) -> bool {
        *self == Parent::Previous
    }
}

/// Written as `parentSeq`: absent for [`Parent::Previous`], `null` for the root, else the `seq`.
impl Serialize for Parent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Parent::Seq(n) => s.serialize_u64(*n),
            _ => s.serialize_none(),
        }
    }
}

/// One message of a session's history. Stored as one record, keyed by session and `seq`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub session_id: String,
    /// Position in the session, strictly increasing, never reused (not even after a reset).
    pub seq: u64,
    /// The previous message on this message's branch (see [`Parent`]).
    #[serde(rename = "parentSeq", skip_serializing_if = "Parent::is_previous")]
    pub parent: Parent,
    pub role: Role,
    pub content: String,
    /// Author: the agent's name for assistant messages, optional for others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    pub status: MessageStatus,
    pub created_at: Millis,
    /// Estimated tokens, computed once when the message is stored.
    pub tokens: u32,
    /// The run that produced this message, for assistant messages written by an agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Free-form plain-JSON data attached by the caller (AG-Kit's `state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// A framework's own form of the message, kept verbatim beside the fields above (an AI SDK
    /// `UIMessage`'s parts, an OpenAI Agents item, a LangChain message dict): any JSON but
    /// `null`. Sealed with the content; the token estimate reads only its text parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// What a caller supplies to add a message; everything else is filled in by the manager.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewMessage {
    pub id: Option<String>,
    pub role: String,
    pub content: Option<Value>,
    pub name: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub tool_call_id: Option<String>,
    pub status: Option<MessageStatus>,
    pub created_at: Option<Millis>,
    pub run_id: Option<String>,
    pub metadata: Option<Value>,
    pub payload: Option<Value>,
}

/// A session as persisted. `next_seq` and `v` are internal; JavaScript sees [`SessionInfo`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub v: u32,
    pub id: String,
    pub title: Option<String>,
    pub metadata: Map<String, Value>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub message_count: u64,
    /// The `seq` the next message gets.
    pub next_seq: u64,
    /// Totals over the session's runs.
    pub usage: Usage,
    /// PraisonAI's `maxMessages`: a cap on the messages any context of this session holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u32>,
    /// How the provider's token counts compare with the estimates (from this session's runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::core::context::Calibration>,
    /// The active leaf of a session whose history has branches (an edit, a regenerated answer, a
    /// switch, a rewind or a truncation made it one): the history is the path from the root to
    /// this `seq`, and `message_count` counts that path. `None`: no branches, the history is every
    /// message in `seq` order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
    /// With `head_seq`: the lowest `seq` the session may hold (key-value stores read
    /// `first_seq..next_seq`; without branches that range is `next_seq - message_count..`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
}

impl Session {
    pub fn new(id: String, now: Millis) -> Self {
        Session {
            v: RECORD_VERSION,
            id,
            title: None,
            metadata: Map::new(),
            created_at: now,
            updated_at: now,
            message_count: 0,
            next_seq: 0,
            usage: Usage::default(),
            max_messages: None,
            calibration: None,
            head_seq: None,
            first_seq: None,
        }
    }

    /// Whether the history has branches (see `head_seq`).
    pub fn is_tree(&self) -> bool {
        self.head_seq.is_some()
    }

    pub fn info(&self) -> SessionInfo<'_> {
        SessionInfo {
            id: &self.id,
            title: self.title.as_deref(),
            metadata: &self.metadata,
            created_at: self.created_at,
            updated_at: self.updated_at,
            message_count: self.message_count,
            usage: &self.usage,
            max_messages: self.max_messages,
        }
    }
}

/// The public view of a session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub metadata: &'a Map<String, Value>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub message_count: u64,
    pub usage: &'a Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[default]
    Pending,
    Running,
    Completed,
    Failed,
    Aborted,
}

/// One execution of an agent (or a caller's own unit of work) within a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: String,
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub status: RunStatus,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub duration_ms: Option<f64>,
    pub attempts: u32,
    pub usage: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The context's estimated tokens as sent (system, tools, summary, messages), for calibration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_input_tokens: Option<u64>,
}

/// A stored summary of older messages (context strategy `summary_buffer`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub id: String,
    pub session_id: String,
    pub content: String,
    /// Ids of the messages this summary read directly (those it rolls up are covered too).
    pub covers: Vec<String>,
    /// The earlier summary whose text this one folded in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolls_up: Option<String>,
    /// The highest `seq` covered.
    pub through_seq: u64,
    pub tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub created_at: Millis,
}

// Read by hand (core/record_read.rs) rather than by serde's derive: one shared JSON parser
// instead of a visitor per type, with the defaults the fields document (absent or `null`
// optional fields are `None`, counts 0, a message `complete`). The `Serialize` derives above stay
// the writing half.

impl RunStatus {
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "pending" => RunStatus::Pending,
            "running" => RunStatus::Running,
            "completed" => RunStatus::Completed,
            "failed" => RunStatus::Failed,
            "aborted" => RunStatus::Aborted,
            _ => return None,
        })
    }
}

/// serde's `Deserialize` for a lowercase word enum, through its `parse`.
macro_rules! deserialize_word {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown variant `{s}`")))
            }
        }
    )*};
}
deserialize_word!(RunStatus, Role, MessageStatus);

impl MessageStatus {
    pub fn parse(s: &str) -> Option<MessageStatus> {
        Some(match s {
            "complete" => MessageStatus::Complete,
            "interrupted" => MessageStatus::Interrupted,
            "error" => MessageStatus::Error,
            _ => return None,
        })
    }
}

impl FromValue for ToolCall {
    fn from_value(value: &Value) -> ReadResult<ToolCall> {
        let f = Fields::of(value, "a tool call")?;
        Ok(ToolCall {
            id: f.string("id")?,
            name: f.string("name")?,
            arguments: f.opt_string("arguments")?.unwrap_or_default(),
        })
    }
}

impl FromValue for Message {
    fn from_value(value: &Value) -> ReadResult<Message> {
        let f = Fields::of(value, "a message record")?;
        Ok(Message {
            id: f.string("id")?,
            session_id: f.string("sessionId")?,
            seq: f.count("seq")?,
            parent: match f.present("parentSeq") {
                false => Parent::Previous,
                true => f.opt_count("parentSeq")?.map_or(Parent::Root, Parent::Seq),
            },
            role: f.word("role", Role::parse)?,
            content: f.string("content")?,
            name: f.opt_string("name")?,
            tool_calls: f.list_or_empty("toolCalls")?,
            tool_call_id: f.opt_string("toolCallId")?,
            status: f
                .opt_word("status", MessageStatus::parse)?
                .unwrap_or_default(),
            created_at: f.number("createdAt")?,
            tokens: f.opt_count32("tokens")?.unwrap_or(0),
            run_id: f.opt_string("runId")?,
            metadata: f.opt_object("metadata")?,
            payload: f.opt_value("payload"),
        })
    }
}

impl FromValue for NewMessage {
    fn from_value(value: &Value) -> ReadResult<NewMessage> {
        let f = Fields::of(value, "a message")?;
        Ok(NewMessage {
            id: f.opt_string("id")?,
            role: f.string("role")?,
            content: f.opt_value("content"),
            name: f.opt_string("name")?,
            tool_calls: f.list_or_empty("toolCalls")?,
            tool_call_id: f.opt_string("toolCallId")?,
            status: f.opt_word("status", MessageStatus::parse)?,
            created_at: f.opt_number("createdAt")?,
            run_id: f.opt_string("runId")?,
            metadata: f.opt_value("metadata"),
            payload: f.opt_value("payload"),
        })
    }
}

impl FromValue for Session {
    fn from_value(value: &Value) -> ReadResult<Session> {
        let f = Fields::of(value, "a session record")?;
        Ok(Session {
            v: f.opt_count32("v")?.unwrap_or(RECORD_VERSION),
            id: f.string("id")?,
            title: f.opt_string("title")?,
            metadata: f.object_or_empty("metadata")?,
            created_at: f.number("createdAt")?,
            updated_at: f.number("updatedAt")?,
            message_count: f.opt_count("messageCount")?.unwrap_or(0),
            next_seq: f.opt_count("nextSeq")?.unwrap_or(0),
            usage: f.opt("usage")?.unwrap_or_default(),
            max_messages: f.opt_count32("maxMessages")?,
            calibration: f.opt("calibration")?,
            head_seq: f.opt_count("headSeq")?,
            first_seq: f.opt_count("firstSeq")?,
        })
    }
}

crate::deserialize_via_value!(ToolCall, Message, NewMessage, Session);

impl FromValue for Usage {
    fn from_value(value: &Value) -> ReadResult<Usage> {
        let f = Fields::of(value, "a usage object")?;
        Ok(Usage {
            input_tokens: f.opt_count("inputTokens")?.unwrap_or(0),
            output_tokens: f.opt_count("outputTokens")?.unwrap_or(0),
            total_tokens: f.opt_count("totalTokens")?.unwrap_or(0),
        })
    }
}

impl<'de> Deserialize<'de> for Usage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d)
    }
}

impl FromValue for Run {
    fn from_value(value: &Value) -> ReadResult<Run> {
        let f = Fields::of(value, "a run record")?;
        Ok(Run {
            id: f.string("id")?,
            session_id: f.string("sessionId")?,
            agent: f.opt_string("agent")?,
            provider: f.opt_string("provider")?,
            model: f.opt_string("model")?,
            status: f.word("status", RunStatus::parse)?,
            created_at: f.number("createdAt")?,
            started_at: f.opt_number("startedAt")?,
            ended_at: f.opt_number("endedAt")?,
            duration_ms: f.opt_number("durationMs")?,
            attempts: f.opt_count32("attempts")?.unwrap_or(0),
            usage: f.opt("usage")?.unwrap_or_default(),
            error_code: f.opt_string("errorCode")?,
            error_message: f.opt_string("errorMessage")?,
            estimated_input_tokens: f.opt_count("estimatedInputTokens")?,
        })
    }
}

impl<'de> Deserialize<'de> for Run {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d)
    }
}

impl FromValue for Summary {
    fn from_value(value: &Value) -> ReadResult<Summary> {
        let f = Fields::of(value, "a summary record")?;
        Ok(Summary {
            id: f.string("id")?,
            session_id: f.string("sessionId")?,
            content: f.string("content")?,
            covers: f.strings("covers")?,
            rolls_up: f.opt_string("rollsUp")?,
            through_seq: f.count("throughSeq")?,
            tokens: f.count32("tokens")?,
            model: f.opt_string("model")?,
            created_at: f.number("createdAt")?,
        })
    }
}

impl<'de> Deserialize<'de> for Summary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_json_is_camel_case_and_omits_empty_parts() {
        let m = Message {
            id: "msg_1".into(),
            session_id: "s".into(),
            seq: 3,
            parent: Parent::Previous,
            role: Role::User,
            content: "hi".into(),
            name: None,
            tool_calls: vec![],
            tool_call_id: None,
            status: MessageStatus::Complete,
            created_at: 5.0,
            tokens: 1,
            run_id: None,
            metadata: None,
            payload: None,
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["sessionId"], "s");
        assert_eq!(v["role"], "user");
        assert_eq!(v["status"], "complete");
        assert!(v.get("toolCalls").is_none());
        assert!(v.get("name").is_none());
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn session_info_hides_internal_fields() {
        let s = Session::new("a".into(), 1.0);
        let v = serde_json::to_value(s.info()).unwrap();
        assert!(v.get("nextSeq").is_none());
        assert!(v.get("v").is_none());
        assert_eq!(v["messageCount"], 0);
        assert_eq!(v["title"], Value::Null);
    }
}
