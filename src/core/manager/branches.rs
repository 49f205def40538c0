//! Branches of a session's history (see [`crate::core::tree`]): editing a message into a new
//! alternative, the alternatives at a point, switching between them, rewinding, truncating,
//! writing a message by the caller's own id, and forking the active path into a new session.
//!
//! Every operation reads the whole tree under the session's lock and writes at most one message
//! and the session record (a truncation: the record, then the deletions). Nothing existing is
//! rewritten to make a branch: an alternative is one new record naming its parent.

use serde_json::Value;

use super::SessionManager;
use crate::core::error::{Error, Result};
use crate::core::events::Event;
use crate::core::ids;
use crate::core::message_validation::build_message;
use crate::core::metadata::{validate_title, MAX_TITLE_CHARS};
use crate::core::model::{Message, NewMessage, Parent, Role, Session};
use crate::core::record_read::{Fields, FromValue, ReadResult};
use crate::core::tree::{self, Tree};

/// `session.fork(options)`: where to cut (default: the active leaf), the new id and title.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForkOptions {
    pub at_message_id: Option<String>,
    pub id: Option<String>,
    pub title: Option<String>,
}

impl FromValue for ForkOptions {
    fn from_value(value: &Value) -> ReadResult<ForkOptions> {
        let f = Fields::of(value, "fork options")?;
        f.only(&["atMessageId", "id", "title"], &[])?;
        Ok(ForkOptions {
            at_message_id: f.opt_string("atMessageId")?,
            id: f.opt_string("id")?,
            title: f.opt_string("title")?,
        })
    }
}

crate::deserialize_via_value!(ForkOptions);

/// `session.editMessage(id, options)`: the new content, and metadata (kept when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditOptions {
    pub content: Option<Value>,
    pub metadata: Option<Value>,
}

impl FromValue for EditOptions {
    fn from_value(value: &Value) -> ReadResult<EditOptions> {
        let f = Fields::of(value, "edit options")?;
        f.only(&["content", "metadata"], &[])?;
        Ok(EditOptions {
            content: f.opt_value("content"),
            metadata: f.opt_value("metadata"),
        })
    }
}

crate::deserialize_via_value!(EditOptions);

/// The session as a tree: from now on its record names the active leaf.
fn into_tree(session: &mut Session) {
    if session.first_seq.is_none() {
        session.first_seq = Some(session.next_seq.saturating_sub(session.message_count));
    }
}

fn parent_of(tree: &Tree, i: usize) -> Parent {
    match tree.parent(i) {
        Some(p) => Parent::Seq(tree.messages[p].seq),
        None => Parent::Root,
    }
}

impl SessionManager {
    /// A session and all of its messages (the whole tree), oldest first.
    async fn with_tree(&self, id: &str) -> Result<(Session, Vec<Message>)> {
        ids::validate_session_id(id)?;
        let session = self.require(id).await?;
        let all = tree::all_messages(&*self.store, id).await?;
        Ok((session, all))
    }

    /// Makes message `leaf` the active leaf; writes and reports the record.
    async fn set_head(
        &self,
        mut session: Session,
        tree: &Tree<'_>,
        leaf: usize,
    ) -> Result<Session> {
        into_tree(&mut session);
        session.head_seq = Some(tree.messages[leaf].seq);
        session.message_count = tree.path_to(leaf).len() as u64;
        session.updated_at = self.now().max(session.updated_at);
        self.store.put_session(&session).await?;
        self.remember(&session);
        self.emit(Event::SessionUpdated(session.clone()));
        Ok(session)
    }

    /// A new alternative to a message: same role, name, tool fields and (unless given) metadata,
    /// the new content; it becomes the active leaf (what followed the original stays on the
    /// original's branch).
    pub async fn edit_message(
        &self,
        id: &str,
        message_id: &str,
        edit: EditOptions,
    ) -> Result<Message> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let (mut session, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let i = tree.find(id, message_id)?;
        let original = &all[i];
        let input = NewMessage {
            role: original.role.as_str().to_owned(),
            content: edit.content,
            name: original.name.clone(),
            tool_calls: original.tool_calls.clone(),
            tool_call_id: original.tool_call_id.clone(),
            metadata: edit
                .metadata
                .or_else(|| original.metadata.clone().map(Value::Object)),
            ..NewMessage::default()
        };
        let now = self.now();
        let mut message = build_message(&session, input, now, &*self.rng)?;
        message.parent = parent_of(&tree, i);
        into_tree(&mut session);
        session.next_seq = message.seq + 1;
        session.head_seq = Some(message.seq);
        session.message_count = tree.path_to(i).len() as u64;
        session.updated_at = now.max(session.updated_at);
        self.store.put_message(&session, &message).await?;
        self.remember(&session);
        self.emit(Event::MessageAdded(message.clone()));
        self.emit(Event::SessionUpdated(session));
        Ok(message)
    }

    /// The alternatives at a message's place (it among them), oldest first.
    pub async fn branches(&self, id: &str, message_id: &str) -> Result<Vec<Message>> {
        let (_, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let i = tree.find(id, message_id)?;
        Ok(tree.collect(&tree.siblings(i)))
    }

    /// The branch through a message (its ancestors, it, and its newest descendants), without
    /// making it active.
    pub async fn branch_history(&self, id: &str, message_id: &str) -> Result<Vec<Message>> {
        let (_, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let i = tree.find(id, message_id)?;
        Ok(tree.collect(&tree.branch_through(i)))
    }

    /// Makes the branch through a message active, down to its newest message.
    pub async fn switch_branch(&self, id: &str, message_id: &str) -> Result<Session> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let (session, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let i = tree.find(id, message_id)?;
        let leaf = tree.newest_leaf(i);
        self.set_head(session, &tree, leaf).await
    }

    /// Moves the active leaf back to a message; what came after it stays as a branch.
    pub async fn rewind(&self, id: &str, message_id: &str) -> Result<Session> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let (session, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let i = tree.find(id, message_id)?;
        self.set_head(session, &tree, i).await
    }

    /// Deletes everything after a message on every branch below it, and makes it the active
    /// leaf. Returns how many messages were deleted.
    pub async fn truncate_after(&self, id: &str, message_id: &str) -> Result<usize> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let (mut session, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let i = tree.find(id, message_id)?;
        let inside = tree.subtree(i);
        let doomed: Vec<u64> = (i + 1..all.len())
            .filter(|&j| inside[j])
            .map(|j| all[j].seq)
            .collect();
        into_tree(&mut session);
        session.head_seq = Some(all[i].seq);
        session.message_count = tree.path_to(i).len() as u64;
        session.updated_at = self.now().max(session.updated_at);
        self.store.delete_messages(&session, &doomed).await?;
        self.remember(&session);
        self.emit(Event::SessionUpdated(session));
        Ok(doomed.len())
    }

    /// Writes a message by the caller's id: a message already stored with that id is replaced in
    /// place (same position and branch; `createdAt` kept unless given), any other is appended
    /// to the active branch. Returns the message and whether it is new.
    pub async fn upsert_message(&self, id: &str, input: NewMessage) -> Result<(Message, bool)> {
        ids::validate_session_id(id)?;
        let Some(message_id) = input.id.clone() else {
            return Err(Error::invalid_message(
                "upsertMessage needs the message's id",
            ));
        };
        let _guard = self.lock(id).await;
        let (mut session, all) = self.with_tree(id).await?;
        let Some(existing) = all.iter().find(|m| m.id == message_id) else {
            return Ok((self.add_message_locked(id, input).await?, true));
        };
        let mut at = session.clone();
        at.next_seq = existing.seq;
        let mut input = input;
        input.created_at = input.created_at.or(Some(existing.created_at));
        let mut message = build_message(&at, input, self.now(), &*self.rng)?;
        message.parent = existing.parent;
        session.updated_at = self.now().max(session.updated_at);
        self.store.put_message(&session, &message).await?;
        self.remember(&session);
        self.emit(Event::MessageUpdated(message.clone()));
        self.emit(Event::SessionUpdated(session));
        Ok((message, false))
    }

    /// Where `regenerate` answers from, made the active leaf: the user message itself, the one
    /// a reply answers, or (`None`) the active history's last user message. The caller holds the
    /// lock and then runs a turn from there: its reply is a new alternative to the old one.
    pub async fn regenerate_from_locked(&self, id: &str, message_id: Option<&str>) -> Result<()> {
        let (session, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let path = match message_id {
            Some(mid) => tree.path_to(tree.find(id, mid)?),
            None => tree.active_path(&session),
        };
        let Some(&user) = path.iter().rev().find(|&&j| all[j].role == Role::User) else {
            return Err(Error::invalid_argument(format!(
                "nothing to regenerate: session {id:?} has no user message to answer there"
            )));
        };
        if tree.head(&session) != Some(user) {
            self.set_head(session, &tree, user).await?;
        }
        Ok(())
    }

    /// A new session holding the active path (or the path to `at_message_id`) as its own linear
    /// history, with the summaries that hold on it; it shares nothing with the source. Title
    /// "Fork: …" unless given; metadata and `maxMessages` copied; message ids kept.
    pub async fn fork(&self, id: &str, opts: ForkOptions) -> Result<Session> {
        ids::validate_session_id(id)?;
        let new_id = match &opts.id {
            Some(n) => {
                ids::validate_session_id(n)?;
                n.clone()
            }
            None => ids::new_session_id(&*self.rng),
        };
        if let Some(t) = &opts.title {
            validate_title(t)?;
        }
        let (source, path, summaries) = {
            let _guard = self.lock(id).await;
            let (session, all) = self.with_tree(id).await?;
            let tree = Tree::new(&all);
            let path = match &opts.at_message_id {
                Some(mid) => tree.collect(&tree.path_to(tree.find(id, mid)?)),
                None => tree.collect(&tree.active_path(&session)),
            };
            let summaries = tree::summaries_on(self.store.get_summaries(id).await?, &path);
            (session, path, summaries)
        };
        let title = opts.title.unwrap_or_else(|| {
            let name = source.title.as_deref().unwrap_or(&source.id);
            let t = format!("Fork: {}", name.replace(char::is_control, " "));
            t.chars().take(MAX_TITLE_CHARS).collect()
        });
        let _guard = self.lock(&new_id).await;
        if self.get(&new_id).await?.is_some() {
            return Err(Error::new(
                crate::core::error::ErrorCode::SessionExists,
                format!("session {new_id:?} already exists"),
            )
            .with_session(&new_id));
        }
        let mut session = Session::new(new_id.clone(), self.now());
        session.title = Some(title);
        session.metadata = source.metadata.clone();
        session.max_messages = source.max_messages;
        // Messages first, each with a record that counts what is written so far.
        let mut progress = session.clone();
        self.store.put_session(&progress).await?;
        let mut seqs = Vec::with_capacity(path.len());
        for (k, m) in path.into_iter().enumerate() {
            seqs.push(m.seq);
            let copy = Message {
                session_id: new_id.clone(),
                seq: k as u64,
                parent: Parent::Previous,
                ..m
            };
            progress.message_count += 1;
            progress.next_seq = k as u64 + 1;
            self.store.put_message(&progress, &copy).await?;
        }
        for mut s in summaries {
            let Ok(k) = seqs.binary_search(&s.through_seq) else {
                continue;
            };
            s.session_id = new_id.clone();
            s.through_seq = k as u64;
            self.store.put_summary(&s).await?;
        }
        session.message_count = progress.message_count;
        session.next_seq = progress.next_seq;
        self.store.put_session(&session).await?;
        self.remember(&session);
        self.emit(Event::SessionCreated(session.clone()));
        Ok(session)
    }
}
