//! Branches of a session's history (see [`crate::core::tree`]): editing a message into a new
//! alternative, the alternatives at a point, switching between them, rewinding, truncating,
//! writing a message by the caller's own id, and forking the active path into a new session.
//!
//! Every operation reads the whole tree under the session's lock and writes at most one message
//! and the session record; a truncation and `addMessages` write their deletions, new messages
//! and record as one [`Store::write_messages`](crate::core::store::Store::write_messages).
//! Nothing existing is rewritten to make a branch: an alternative is one new record naming its
//! parent.

use serde_json::Value;

use super::SessionManager;
use crate::core::bundle::Import;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::events::Event;
use crate::core::ids;
use crate::core::message_validation::build_message;
use crate::core::metadata::{sanitize_metadata, validate_title, MAX_TITLE_CHARS};
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
    /// The alternative's id (the caller's, as `addMessage` takes one); generated when absent.
    pub id: Option<String>,
    pub content: Option<Value>,
    pub metadata: Option<Value>,
    /// The alternative's own payload (the original's is not carried over: it describes the
    /// original's content).
    pub payload: Option<Value>,
}

impl FromValue for EditOptions {
    fn from_value(value: &Value) -> ReadResult<EditOptions> {
        let f = Fields::of(value, "edit options")?;
        f.only(&["id", "content", "metadata", "payload"], &[])?;
        Ok(EditOptions {
            id: f.opt_string("id")?,
            content: f.opt_value("content"),
            metadata: f.opt_value("metadata"),
            payload: f.opt_value("payload"),
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

/// One operation on a session's tree (see [`SessionManager::tree_op`]); message ids are the
/// caller's.
#[derive(Debug, Clone)]
pub enum TreeOp {
    Edit(String, EditOptions),
    Branches(String),
    BranchHistory(String),
    Switch(String),
    Rewind(String),
    Truncate(String),
    Upsert(NewMessage),
    Fork(ForkOptions),
    Add(AddMessages),
}

/// `session.addMessages(messages, options)`: several messages written as one store write, after
/// an optional truncation, with an optional new metadata object.
#[derive(Debug, Clone, Default)]
pub struct AddMessages {
    pub messages: Vec<NewMessage>,
    /// `Some(Some(id))`: first truncate after that message (as `truncateAfter`); `Some(None)`:
    /// first clear the history (as `reset`, summaries included).
    pub truncate_after: Option<Option<String>>,
    /// Replaces the session's metadata (as `update` does).
    pub metadata: Option<Value>,
}

/// What a [`TreeOp`] gives back.
#[derive(Debug, Clone)]
pub enum TreeOut {
    /// `Edit`, `Upsert`: the message written.
    Message(Message),
    /// `Branches`: the alternatives; `BranchHistory`: that branch; `Switch`, `Rewind`: the
    /// active history now; `Add`: the messages written.
    Messages(Vec<Message>),
    /// `Truncate`: how many messages were deleted.
    Removed(usize),
    /// `Fork`: the new session.
    Session(Session),
}

/// What an operation writes besides the session record.
enum Write {
    /// Nothing at all (a read).
    Nothing,
    /// The record only.
    Record,
    /// A message, new (`true`) or rewritten in place.
    Message(Message, bool),
    /// An upsert of an id the session does not hold: a plain append.
    Append(NewMessage),
    /// `Truncate`, `Add`: the deletions, the new messages, and whether the summaries go first
    /// (a clear), as one [`Store::write_messages`](crate::core::store::Store::write_messages).
    Many(Vec<u64>, Vec<Message>, bool),
}

impl SessionManager {
    /// A session and all of its messages (the whole tree), oldest first.
    async fn with_tree(&self, id: &str) -> Result<(Session, Vec<Message>)> {
        let session = self.require(id).await?;
        let all = tree::all_messages(&*self.store, id).await?;
        Ok((session, all))
    }

    /// Runs one tree operation under the session's lock: the whole tree is read (a plain
    /// `addMessages`: the record only), the change decided and validated here without I/O, then
    /// written and reported: at most one message and the record, or for a truncation and
    /// `addMessages` one [`Store::write_messages`](crate::core::store::Store::write_messages)
    /// (new messages, record, deletions). One code path for every operation keeps the module
    /// small: each `async fn` is a state machine of its own.
    pub async fn tree_op(&self, id: &str, op: TreeOp) -> Result<TreeOut> {
        ids::validate_session_id(id)?;
        let op = match op {
            TreeOp::Fork(o) => return self.fork(id, o).await.map(TreeOut::Session),
            op => op,
        };
        // Reads take no lock: a page reads the alternatives while a run holds the session.
        let reads = matches!(op, TreeOp::Branches(_) | TreeOp::BranchHistory(_));
        let truncate = matches!(op, TreeOp::Truncate(_));
        let _guard = match reads {
            true => None,
            false => Some(self.lock(id).await),
        };
        // Kept for another attempt: an `addMessages` whose position was taken (another writer,
        // or what an interrupted write left on a store without transactions) is decided again
        // past what is stored, under the same lock, as `add_message_locked` does.
        let again = match &op {
            TreeOp::Add(add) => add.clone(),
            _ => AddMessages::default(),
        };
        let mut attempt = 1;
        let mut next = Some(op);
        loop {
            let op = next.take().unwrap_or_else(|| TreeOp::Add(again.clone()));
            // A plain `addMessages` needs only the record.
            let (mut session, all) = match &op {
                TreeOp::Add(AddMessages {
                    truncate_after: None,
                    ..
                }) => (self.require(id).await?, Vec::new()),
                _ => self.with_tree(id).await?,
            };
            let tree = Tree::new(&all);
            let now = self.now();
            let find = |mid: &str| tree.find(id, mid);
            let head = |s: &mut Session, leaf: usize| {
                into_tree(s);
                s.head_seq = Some(all[leaf].seq);
                s.message_count = tree.path_to(leaf).len() as u64;
            };
            // What a truncation after `i` deletes: everything below it, on every branch.
            let below = |i: usize| -> Vec<u64> {
                let inside = tree.subtree(i);
                (i + 1..all.len())
                    .filter(|&j| inside[j])
                    .map(|j| all[j].seq)
                    .collect()
            };
            let (write, out) = match op {
                TreeOp::Branches(mid) => {
                    (Write::Nothing, tree.collect(&tree.siblings(find(&mid)?)))
                }
                TreeOp::BranchHistory(mid) => (
                    Write::Nothing,
                    tree.collect(&tree.branch_through(find(&mid)?)),
                ),
                TreeOp::Switch(mid) => {
                    let leaf = tree.newest_leaf(find(&mid)?);
                    head(&mut session, leaf);
                    (Write::Record, tree.collect(&tree.path_to(leaf)))
                }
                TreeOp::Rewind(mid) => {
                    let leaf = find(&mid)?;
                    head(&mut session, leaf);
                    (Write::Record, tree.collect(&tree.path_to(leaf)))
                }
                TreeOp::Truncate(mid) => {
                    let i = find(&mid)?;
                    head(&mut session, i);
                    (Write::Many(below(i), Vec::new(), false), Vec::new())
                }
                TreeOp::Edit(mid, edit) => {
                    let i = find(&mid)?;
                    let original = &all[i];
                    if let Some(taken) = edit.id.as_deref().filter(|x| tree.by_id(x).is_some()) {
                        return Err(Error::invalid_message(format!(
                            "the session already holds a message {}",
                            crate::core::json::quote(&crate::core::ids::truncate_for_message(
                                taken
                            ))
                        )));
                    }
                    let input = NewMessage {
                        id: edit.id,
                        role: original.role.as_str().to_owned(),
                        content: edit.content,
                        name: original.name.clone(),
                        tool_calls: original.tool_calls.clone(),
                        tool_call_id: original.tool_call_id.clone(),
                        metadata: edit
                            .metadata
                            .or_else(|| original.metadata.clone().map(Value::Object)),
                        payload: edit.payload,
                        ..NewMessage::default()
                    };
                    let mut message = build_message(&session, input, now, &*self.rng)?;
                    message.parent = parent_of(&tree, i);
                    into_tree(&mut session);
                    session.next_seq = message.seq + 1;
                    session.head_seq = Some(message.seq);
                    session.message_count = tree.path_to(i).len() as u64;
                    (Write::Message(message, true), Vec::new())
                }
                TreeOp::Upsert(input) => {
                    let Some(mid) = input.id.as_deref() else {
                        return Err(Error::invalid_message(
                            "upsertMessage needs the message's id",
                        ));
                    };
                    match tree.by_id(mid) {
                        None => (Write::Append(input), Vec::new()),
                        Some(i) => {
                            let existing = &all[i];
                            let mut at = session.clone();
                            at.next_seq = existing.seq;
                            let mut input = input;
                            input.created_at = input.created_at.or(Some(existing.created_at));
                            let mut message = build_message(&at, input, now, &*self.rng)?;
                            message.parent = existing.parent;
                            (Write::Message(message, false), Vec::new())
                        }
                    }
                }
                TreeOp::Add(add) => {
                    // Everything is decided and validated before anything is written.
                    let metadata = add
                        .metadata
                        .map(|m| sanitize_metadata(Some(m)))
                        .transpose()?;
                    let clear = add.truncate_after == Some(None);
                    // With branches, each message continues the one before it.
                    let mut parent = session.head_seq.map(Parent::Seq);
                    let doomed = match add.truncate_after {
                        None => Vec::new(),
                        Some(None) => {
                            session.message_count = 0;
                            session.head_seq = None;
                            session.first_seq = None;
                            parent = None;
                            all.iter().map(|m| m.seq).collect()
                        }
                        Some(Some(mid)) => {
                            let i = find(&mid)?;
                            head(&mut session, i);
                            parent = Some(Parent::Seq(all[i].seq));
                            below(i)
                        }
                    };
                    let mut added = Vec::with_capacity(add.messages.len());
                    for input in add.messages {
                        let mut m = build_message(&session, input, now, &*self.rng)?;
                        if let Some(p) = parent.as_mut() {
                            m.parent = std::mem::replace(p, Parent::Seq(m.seq));
                            session.head_seq = Some(m.seq);
                        }
                        session.next_seq = m.seq + 1;
                        session.message_count += 1;
                        added.push(m);
                    }
                    if let Some(m) = metadata {
                        session.metadata = m;
                    }
                    (Write::Many(doomed, added, clear), Vec::new())
                }
                TreeOp::Fork(_) => return Err(Error::internal("fork is not a tree write")),
            };
            session.updated_at = now.max(session.updated_at);
            let result = match write {
                Write::Nothing => return Ok(TreeOut::Messages(out)),
                Write::Append(input) => {
                    return Ok(TreeOut::Message(self.add_message_locked(id, input).await?))
                }
                Write::Record => {
                    self.store.put_session(&session).await?;
                    TreeOut::Messages(out)
                }
                Write::Many(doomed, added, clear) => {
                    // Summaries are derived from the history: gone first, a crash after leaves the
                    // old history without them, which a later run summarises again.
                    if clear {
                        for s in self.store.get_summaries(id).await? {
                            self.store.delete_summary(id, &s.id).await?;
                        }
                    }
                    match self.store.write_messages(&session, &doomed, &added).await {
                        Err(e) if e.code == ErrorCode::SessionBusy && attempt < 24 => {
                            attempt += 1;
                            // Past the first position tried, at least: each try moves on.
                            self.resync(id, added.first().map_or(0, |m| m.seq)).await?;
                            continue;
                        }
                        written => written?,
                    }
                    for m in &added {
                        self.emit(Event::MessageAdded(m.clone()));
                    }
                    match truncate {
                        true => TreeOut::Removed(doomed.len()),
                        false => TreeOut::Messages(added),
                    }
                }
                Write::Message(message, added) => {
                    self.store.put_message(&session, &message).await?;
                    self.emit(if added {
                        Event::MessageAdded(message.clone())
                    } else {
                        Event::MessageUpdated(message.clone())
                    });
                    TreeOut::Message(message)
                }
            };
            self.remember(&session);
            self.emit(Event::SessionUpdated(session));
            return Ok(result);
        }
    }

    /// Where `regenerate` answers from, made the active leaf: the user message itself, the one
    /// a reply answers, or (`None`) the active history's last user message. The caller holds the
    /// lock and then runs a turn from there: its reply is a new alternative to the old one.
    pub async fn regenerate_from_locked(&self, id: &str, message_id: Option<&str>) -> Result<()> {
        let (mut session, all) = self.with_tree(id).await?;
        let tree = Tree::new(&all);
        let path = match message_id {
            Some(mid) => tree.path_to(tree.find(id, mid)?),
            None => tree.active_path(&session),
        };
        let Some(&user) = path.iter().rev().find(|&&j| all[j].role == Role::User) else {
            return Err(Error::invalid_argument(format!(
                "nothing to regenerate: session {} has no user message to answer there",
                crate::core::json::quote(id)
            )));
        };
        if tree.head(&session) != Some(user) {
            into_tree(&mut session);
            session.head_seq = Some(all[user].seq);
            session.message_count = tree.path_to(user).len() as u64;
            session.updated_at = self.now().max(session.updated_at);
            self.store.put_session(&session).await?;
            self.remember(&session);
            self.emit(Event::SessionUpdated(session));
        }
        Ok(())
    }

    /// A new session holding the active path (or the path to `at_message_id`) as its own linear
    /// history, with the summaries that hold on it; it shares nothing with the source. Title
    /// "Fork: …" unless given; metadata and `maxMessages` copied; message ids kept. Written as
    /// an import is.
    async fn fork(&self, id: &str, opts: ForkOptions) -> Result<Session> {
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
        let mut session = Session::new(new_id.clone(), self.now());
        session.title = Some(title);
        session.metadata = source.metadata.clone();
        session.max_messages = source.max_messages;
        session.message_count = path.len() as u64;
        session.next_seq = path.len() as u64;
        let seqs: Vec<u64> = path.iter().map(|m| m.seq).collect();
        let messages = path
            .into_iter()
            .enumerate()
            .map(|(k, m)| Message {
                session_id: new_id.clone(),
                seq: k as u64,
                parent: Parent::Previous,
                ..m
            })
            .collect();
        let summaries = summaries
            .into_iter()
            .filter_map(|mut s| {
                s.through_seq = seqs.binary_search(&s.through_seq).ok()? as u64;
                s.session_id = new_id.clone();
                Some(s)
            })
            .collect();
        let import = Import {
            session,
            messages,
            runs: Vec::new(),
            summaries,
        };
        let _guard = self.lock(&new_id).await;
        self.import_locked(import, false).await
    }
}

/// The operations one at a time, as the tests and the server call them.
impl SessionManager {
    pub async fn edit_message(&self, id: &str, mid: &str, edit: EditOptions) -> Result<Message> {
        match self.tree_op(id, TreeOp::Edit(mid.into(), edit)).await? {
            TreeOut::Message(m) => Ok(m),
            _ => Err(Error::internal("edit gave no message")),
        }
    }

    pub async fn branches(&self, id: &str, mid: &str) -> Result<Vec<Message>> {
        self.messages_op(id, TreeOp::Branches(mid.into())).await
    }

    pub async fn branch_history(&self, id: &str, mid: &str) -> Result<Vec<Message>> {
        self.messages_op(id, TreeOp::BranchHistory(mid.into()))
            .await
    }

    pub async fn switch_branch(&self, id: &str, mid: &str) -> Result<Vec<Message>> {
        self.messages_op(id, TreeOp::Switch(mid.into())).await
    }

    pub async fn rewind(&self, id: &str, mid: &str) -> Result<Vec<Message>> {
        self.messages_op(id, TreeOp::Rewind(mid.into())).await
    }

    pub async fn truncate_after(&self, id: &str, mid: &str) -> Result<usize> {
        match self.tree_op(id, TreeOp::Truncate(mid.into())).await? {
            TreeOut::Removed(n) => Ok(n),
            _ => Err(Error::internal("truncate gave no count")),
        }
    }

    pub async fn upsert_message(&self, id: &str, input: NewMessage) -> Result<Message> {
        match self.tree_op(id, TreeOp::Upsert(input)).await? {
            TreeOut::Message(m) => Ok(m),
            _ => Err(Error::internal("upsert gave no message")),
        }
    }

    pub async fn add_messages(&self, id: &str, add: AddMessages) -> Result<Vec<Message>> {
        self.messages_op(id, TreeOp::Add(add)).await
    }

    pub async fn fork_session(&self, id: &str, opts: ForkOptions) -> Result<Session> {
        match self.tree_op(id, TreeOp::Fork(opts)).await? {
            TreeOut::Session(s) => Ok(s),
            _ => Err(Error::internal("fork gave no session")),
        }
    }

    async fn messages_op(&self, id: &str, op: TreeOp) -> Result<Vec<Message>> {
        match self.tree_op(id, op).await? {
            TreeOut::Messages(m) => Ok(m),
            _ => Err(Error::internal("the operation gave no messages")),
        }
    }
}
