//! Encryption at rest: a [`Store`] wrapper that seals what people write before any backend sees
//! it, and opens it on the way back.
//!
//! Sealed: message content, author name, tool calls and metadata; session title and metadata;
//! summary text. Left in the clear, because the store needs them to find and order records: ids,
//! `seq`, roles, statuses, timestamps, token counts and run records (model names, usage,
//! durations, error codes). The cipher (AES-GCM through WebCrypto on the platform) is behind the
//! [`Cipher`] trait so this logic is tested natively.
//!
//! The store keeps two meta values: `enc.salt` (for a passphrase-derived key; written on first
//! use) and `enc.check`, a known text sealed with the key, so a wrong passphrase or key is
//! reported as `WRONG_KEY` when the store opens rather than as garbage later. Records written
//! before encryption was turned on stay readable.

use std::rc::Rc;

use crate::core::base64 as b64;
use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::core::error::{Error, ErrorCode, Result};
use crate::core::io::Cipher;
use crate::core::model::{Message, Run, Session, Summary, ToolCall};
use crate::core::record_read::{Fields, FromValue, ReadResult};
use crate::core::store::{MessageQuery, Store};

pub const META_SALT: &str = "enc.salt";
pub const META_CHECK: &str = "enc.check";
const CHECK_TEXT: &[u8] = b"agent-sessions key check v1";
/// The metadata key a sealed record's ciphertext lives under.
const SEALED: &str = "$sealed";
/// Prefix of a sealed summary's content.
const SEALED_PREFIX: &str = "$sealed:";

/// The salt of a store's passphrase-derived key: the stored one, or `fresh` (which the caller
/// generated) stored now.
pub async fn salt(store: &dyn Store, fresh: &[u8]) -> Result<Vec<u8>> {
    if let Some(s) = store.get_meta(META_SALT).await? {
        return b64::decode(s)
            .ok_or_else(|| Error::corrupt(None, "the encryption salt is not base64"));
    }
    store.put_meta(META_SALT, &b64::encode(fresh)).await?;
    Ok(fresh.to_vec())
}

pub fn wrong_key() -> Error {
    Error::new(
        ErrorCode::WrongKey,
        "the passphrase or key does not open this store's data",
    )
}

pub struct SealedStore {
    inner: Rc<dyn Store>,
    cipher: Rc<dyn Cipher>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct MessageSecret {
    content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Value>,
}

#[derive(Serialize, Default)]
struct SessionSecret {
    title: Option<String>,
    metadata: Map<String, Value>,
}

impl FromValue for MessageSecret {
    fn from_value(value: &Value) -> ReadResult<MessageSecret> {
        let f = Fields::of(value, "a sealed message")?;
        Ok(MessageSecret {
            content: f.string("content")?,
            name: f.opt_string("name")?,
            tool_calls: f.list_or_empty("toolCalls")?,
            metadata: f.opt_object("metadata")?,
            payload: f.opt_value("payload"),
        })
    }
}

impl FromValue for SessionSecret {
    fn from_value(value: &Value) -> ReadResult<SessionSecret> {
        let f = Fields::of(value, "a sealed session")?;
        Ok(SessionSecret {
            title: f.opt_string("title")?,
            metadata: f.object_or_empty("metadata")?,
        })
    }
}

crate::deserialize_via_value!(MessageSecret, SessionSecret);

impl SealedStore {
    /// Wraps `inner`, checking the key against the store's check value (writing one if the store
    /// has none yet). A key that does not open it gives `WRONG_KEY`.
    pub async fn open(inner: Rc<dyn Store>, cipher: Rc<dyn Cipher>) -> Result<SealedStore> {
        match inner.get_meta(META_CHECK).await? {
            Some(check) => {
                let bytes = b64::decode(check).ok_or_else(wrong_key)?;
                match cipher.open(&bytes).await {
                    Ok(plain) if plain == CHECK_TEXT => {}
                    _ => return Err(wrong_key()),
                }
            }
            None => {
                let sealed = cipher.seal(CHECK_TEXT).await?;
                inner.put_meta(META_CHECK, &b64::encode(sealed)).await?;
            }
        }
        Ok(SealedStore { inner, cipher })
    }

    async fn seal_json<T: Serialize>(&self, value: &T) -> Result<String> {
        let plain = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("could not encode a record: {e}")))?;
        Ok(b64::encode(self.cipher.seal(&plain).await?))
    }

    async fn open_json<T: FromValue>(&self, text: &str, session: &str) -> Result<T> {
        let value = self.open_value(text, session).await?;
        T::from_value(&value)
            .map_err(|e| Error::corrupt(Some(session), format!("a sealed record: {e}")))
    }

    async fn open_value(&self, text: &str, session: &str) -> Result<Value> {
        let bytes = b64::decode(text)
            .ok_or_else(|| Error::corrupt(Some(session), "a sealed field is not base64"))?;
        let plain = self.cipher.open(&bytes).await.map_err(|_| {
            Error::corrupt(
                Some(session),
                "a sealed record does not open with this key (altered or damaged)",
            )
        })?;
        crate::core::json::parse_bytes(&plain)
            .map_err(|e| Error::corrupt(Some(session), format!("a sealed record: {e}")))
    }

    async fn seal_session(&self, s: &Session) -> Result<Session> {
        let secret = SessionSecret {
            title: s.title.clone(),
            metadata: s.metadata.clone(),
        };
        let mut out = s.clone();
        out.title = None;
        out.metadata = crate::core::json::object1(SEALED, self.seal_json(&secret).await?.into());
        Ok(out)
    }

    async fn open_session(&self, mut s: Session) -> Result<Session> {
        if let Some(Value::String(text)) = s.metadata.get(SEALED).cloned() {
            let secret: SessionSecret = self.open_json(&text, &s.id).await?;
            s.title = secret.title;
            s.metadata = secret.metadata;
        }
        Ok(s)
    }

    async fn seal_message(&self, m: &Message) -> Result<Message> {
        let secret = MessageSecret {
            content: m.content.clone(),
            name: m.name.clone(),
            tool_calls: m.tool_calls.clone(),
            metadata: m.metadata.clone(),
            payload: m.payload.clone(),
        };
        let mut out = m.clone();
        out.content = String::new();
        out.payload = None;
        out.name = None;
        out.tool_calls = Vec::new();
        out.metadata = Some(crate::core::json::object1(
            SEALED,
            self.seal_json(&secret).await?.into(),
        ));
        Ok(out)
    }

    async fn open_message(&self, mut m: Message) -> Result<Message> {
        let sealed = m
            .metadata
            .as_ref()
            .and_then(|md| md.get(SEALED))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(text) = sealed {
            let secret: MessageSecret = self.open_json(&text, &m.session_id).await?;
            m.content = secret.content;
            m.name = secret.name;
            m.tool_calls = secret.tool_calls;
            m.metadata = secret.metadata;
            m.payload = secret.payload;
        }
        Ok(m)
    }

    async fn seal_summary(&self, s: &Summary) -> Result<Summary> {
        let mut out = s.clone();
        out.content = format!("{SEALED_PREFIX}{}", self.seal_json(&s.content).await?);
        Ok(out)
    }

    async fn open_summary(&self, mut s: Summary) -> Result<Summary> {
        if let Some(text) = s.content.strip_prefix(SEALED_PREFIX) {
            // Read as a `Value`, not a `String`: serde's typed string reader is the one path
            // that links serde's type-mismatch messages (and with them core's float formatter).
            s.content = match self.open_value(text, &s.session_id).await? {
                Value::String(content) => content,
                _ => {
                    return Err(Error::corrupt(
                        Some(&s.session_id),
                        "a sealed summary is not text",
                    ))
                }
            };
        }
        Ok(s)
    }
}

#[async_trait(?Send)]
impl Store for SealedStore {
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        match self.inner.get_session(id).await? {
            Some(s) => Ok(Some(self.open_session(s).await?)),
            None => Ok(None),
        }
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        let sealed = self.seal_session(session).await?;
        self.inner.put_session(&sealed).await
    }

    async fn list_sessions(&self) -> Result<Vec<Session>> {
        let mut out = Vec::new();
        for s in self.inner.list_sessions().await? {
            out.push(self.open_session(s).await?);
        }
        Ok(out)
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        self.inner.delete_session(id).await
    }

    async fn put_message(&self, session: &Session, message: &Message) -> Result<()> {
        let s = self.seal_session(session).await?;
        let m = self.seal_message(message).await?;
        self.inner.put_message(&s, &m).await
    }

    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        for m in self.inner.get_messages(session_id, query).await? {
            out.push(self.open_message(m).await?);
        }
        Ok(out)
    }

    async fn clear_messages(&self, session: &Session) -> Result<()> {
        let s = self.seal_session(session).await?;
        self.inner.clear_messages(&s).await
    }

    async fn write_messages(
        &self,
        session: &Session,
        delete: &[u64],
        put: &[Message],
    ) -> Result<()> {
        let s = self.seal_session(session).await?;
        let mut sealed = Vec::with_capacity(put.len());
        for m in put {
            sealed.push(self.seal_message(m).await?);
        }
        self.inner.write_messages(&s, delete, &sealed).await
    }

    async fn put_run(&self, run: &Run) -> Result<()> {
        self.inner.put_run(run).await
    }

    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>> {
        self.inner.get_runs(session_id).await
    }

    async fn put_summary(&self, summary: &Summary) -> Result<()> {
        let s = self.seal_summary(summary).await?;
        self.inner.put_summary(&s).await
    }

    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>> {
        let mut out = Vec::new();
        for s in self.inner.get_summaries(session_id).await? {
            out.push(self.open_summary(s).await?);
        }
        Ok(out)
    }

    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()> {
        self.inner.delete_summary(session_id, summary_id).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        self.inner.get_meta(key).await
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.inner.put_meta(key, value).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{MessageStatus, Role};
    use crate::core::store::MemoryStore;
    use futures_executor::block_on;
    use serde_json::json;

    /// A toy authenticated cipher for the logic: XOR with a key byte, plus a tag byte.
    struct Toy(u8);

    #[async_trait(?Send)]
    impl Cipher for Toy {
        async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
            let mut out: Vec<u8> = plain.iter().map(|b| b ^ self.0).collect();
            out.push(self.0);
            Ok(out)
        }
        async fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
            match sealed.split_last() {
                Some((tag, body)) if *tag == self.0 => {
                    Ok(body.iter().map(|b| b ^ self.0).collect())
                }
                _ => Err(Error::internal("tag mismatch")),
            }
        }
    }

    fn message(content: &str) -> Message {
        Message {
            id: "m1".into(),
            session_id: "s".into(),
            seq: 0,
            parent: Default::default(),
            role: Role::Assistant,
            content: content.into(),
            name: Some("Bot".into()),
            tool_calls: vec![ToolCall {
                id: "c".into(),
                name: "lookup".into(),
                arguments: "{\"q\":\"secret plans\"}".into(),
            }],
            tool_call_id: None,
            status: MessageStatus::Complete,
            created_at: 1.0,
            tokens: 3,
            run_id: None,
            metadata: Some(Map::from_iter([("mood".into(), json!("secret mood"))])),
            payload: Some(json!([{ "type": "text", "text": "secret part" }])),
        }
    }

    #[test]
    fn what_reaches_the_backend_is_sealed_and_reads_back_whole() {
        block_on(async {
            let raw = Rc::new(MemoryStore::new());
            let store = SealedStore::open(raw.clone(), Rc::new(Toy(0x5a)))
                .await
                .unwrap();
            let mut s = Session::new("s".into(), 1.0);
            s.title = Some("secret title".into());
            s.metadata.insert("who".into(), json!("secret person"));
            store.put_session(&s).await.unwrap();
            store
                .put_message(&s, &message("secret content"))
                .await
                .unwrap();
            // Several at once (`addMessages`): each one sealed too.
            let second = Message {
                id: "m2".into(),
                seq: 1,
                ..message("secret second")
            };
            store
                .write_messages(&s, &[], std::slice::from_ref(&second))
                .await
                .unwrap();
            let summary = Summary {
                id: "sum".into(),
                session_id: "s".into(),
                content: "secret summary".into(),
                covers: vec!["m1".into()],
                through_seq: 0,
                tokens: 2,
                model: None,
                created_at: 1.0,
                rolls_up: None,
            };
            store.put_summary(&summary).await.unwrap();

            let dump = format!(
                "{:?}{:?}{:?}",
                raw.list_sessions().await.unwrap(),
                raw.get_messages("s", MessageQuery::all()).await.unwrap(),
                raw.get_summaries("s").await.unwrap()
            );
            assert!(
                !dump.contains("secret"),
                "plaintext reached the backend: {dump}"
            );

            assert_eq!(store.get_session("s").await.unwrap().unwrap(), s);
            assert_eq!(
                store.get_messages("s", MessageQuery::all()).await.unwrap(),
                [message("secret content"), second]
            );
            assert_eq!(store.get_summaries("s").await.unwrap(), [summary]);
        });
    }

    #[test]
    fn a_wrong_key_is_refused_at_open_and_altered_records_are_corrupt() {
        block_on(async {
            let raw = Rc::new(MemoryStore::new());
            let store = SealedStore::open(raw.clone(), Rc::new(Toy(1)))
                .await
                .unwrap();
            let s = Session::new("s".into(), 1.0);
            store.put_message(&s, &message("hello")).await.unwrap();
            let err = SealedStore::open(raw.clone(), Rc::new(Toy(2)))
                .await
                .err()
                .unwrap();
            assert_eq!(err.code, ErrorCode::WrongKey);

            // Tamper with the stored ciphertext.
            let mut m = raw.get_messages("s", MessageQuery::all()).await.unwrap()[0].clone();
            m.metadata = Some(Map::from_iter([(SEALED.into(), json!("AAAA"))]));
            raw.put_message(&s, &m).await.unwrap();
            let err = store
                .get_messages("s", MessageQuery::all())
                .await
                .unwrap_err();
            assert_eq!(err.code, ErrorCode::StorageCorrupt);
            assert_eq!(err.session_id.as_deref(), Some("s"));
        });
    }

    #[test]
    fn records_written_before_encryption_stay_readable() {
        block_on(async {
            let raw = Rc::new(MemoryStore::new());
            let s = Session::new("old".into(), 1.0);
            let mut m = message("plain");
            m.session_id = "old".into();
            raw.put_message(&s, &m).await.unwrap();
            let store = SealedStore::open(raw, Rc::new(Toy(9))).await.unwrap();
            assert_eq!(
                store
                    .get_messages("old", MessageQuery::all())
                    .await
                    .unwrap()[0]
                    .content,
                "plain"
            );
        });
    }
}
