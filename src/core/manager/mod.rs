//! Session lifecycle over a [`Store`]: create, get, list, query, update, reset, delete, messages,
//! runs; an in-memory LRU cache bounded by count and idle time; retention (deletion from storage
//! by idle time and age); per-session serialisation of writes; lifecycle events.
//!
//! - [`options`]: the manager's configuration and its operations' options;
//! - `cache`: the LRU of sessions held in memory;
//! - `locks`: one writer per session at a time;
//! - message validation is [`crate::core::message_validation`], shared with bundle import.

mod branches;
mod cache;
mod locks;
pub mod options;

pub use branches::{AddMessages, EditOptions, ForkOptions, TreeOp, TreeOut};
pub use locks::SessionGuard;
pub use options::{
    CacheConfig, CreateOptions, ImportOptions, ManagerConfig, QueryOptions, RetentionConfig,
    RetentionOptions, SessionOrder, SessionPage, SessionsOptions, UpdateOptions,
    DEFAULT_MAX_SESSIONS, DEFAULT_PAGE_SIZE, DEFAULT_SESSION_TTL_MS, MAX_PAGE_SIZE,
};

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::bundle::{prepare_import, Bundle, Import};
use crate::core::context::Calibration;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::events::{Event, EventBus};
use crate::core::ids;
use crate::core::io::{Clock, Peers, RandomSource};
use crate::core::message_validation::build_message;
use crate::core::metadata::{sanitize_metadata, validate_title};
use crate::core::model::{Message, Millis, NewMessage, Parent, Run, RunStatus, Session, Summary};
use crate::core::sort;
use crate::core::store::{HostMessages, MessageQuery, Store};
use crate::core::tree;

use cache::Cache;
use locks::{KeyGuard, KeyedLocks};

pub struct SessionManager {
    store: Rc<dyn Store>,
    clock: Rc<dyn Clock>,
    rng: Rc<dyn RandomSource>,
    config: ManagerConfig,
    cache: RefCell<Cache>,
    locks: Rc<KeyedLocks>,
    peers: RefCell<Option<Rc<dyn Peers>>>,
    pub events: Rc<EventBus>,
}

impl SessionManager {
    pub fn new(
        store: Rc<dyn Store>,
        clock: Rc<dyn Clock>,
        rng: Rc<dyn RandomSource>,
        config: ManagerConfig,
    ) -> Self {
        SessionManager {
            store,
            clock,
            rng,
            config,
            cache: RefCell::new(Cache::default()),
            locks: Rc::new(KeyedLocks::default()),
            peers: RefCell::new(None),
            events: Rc::default(),
        }
    }

    pub fn store(&self) -> &Rc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    pub fn rng(&self) -> &dyn RandomSource {
        &*self.rng
    }

    /// Reads a session held in memory without touching its recency; `None` when not cached.
    pub fn with_cached<R>(&self, id: &str, f: impl FnOnce(&Session) -> R) -> Option<R> {
        self.cache.borrow().peek(id).map(f)
    }

    /// Ids of the sessions held in memory, least recently used first.
    pub fn cached_ids(&self) -> Vec<String> {
        self.cache.borrow().ids()
    }

    /// Connects this manager to the other contexts sharing its storage (see [`Peers`]).
    pub fn set_peers(&self, peers: Rc<dyn Peers>) {
        *self.peers.borrow_mut() = Some(peers);
    }

    fn peers(&self) -> Option<Rc<dyn Peers>> {
        self.peers.borrow().clone()
    }

    /// Reports a durable change to this context's listeners and to the other contexts.
    fn emit(&self, event: Event) {
        self.events.emit(&event);
        if let Some(p) = self.peers() {
            p.publish(&event);
        }
    }

    /// A change another context made: what this one holds of the session is stale now.
    pub fn apply_remote(&self, event: Event) {
        self.cache.borrow_mut().remove(event.session_id());
        self.events.emit(&Event::Remote(Box::new(event)));
    }

    /// Waits for exclusive write access to one session, across every context sharing the
    /// storage. Methods below take it themselves; hold it across several `*_locked` calls to make
    /// them one unit (as an agent run does). With peers, the session is re-read from storage
    /// under the lock: another context may have written it since it was cached here.
    pub async fn lock(&self, id: &str) -> SessionGuard {
        let mutex = self.locks.mutex(id);
        let key = KeyGuard::new(mutex.lock_owned().await, id, &self.locks);
        let peer = match self.peers() {
            Some(p) => {
                let lock = p.lock(id).await;
                // Kept only when nobody else can have written the session since it was cached.
                if !lock.as_ref().is_some_and(|l| l.unbroken) {
                    self.cache.borrow_mut().remove(id);
                }
                if lock.is_some() {
                    self.locks.set_exclusive(id);
                }
                lock
            }
            None => None,
        };
        SessionGuard {
            _peer: peer,
            _key: key,
        }
    }

    fn is_expired(&self, s: &Session, now: Millis) -> bool {
        let r = &self.config.retention;
        r.expire_after_ms.is_some_and(|t| now - s.updated_at > t)
            || r.max_age_ms.is_some_and(|t| now - s.created_at > t)
    }

    async fn expire(&self, id: &str) -> Result<()> {
        self.store.delete_session(id).await?;
        self.cache.borrow_mut().remove(id);
        self.emit(Event::SessionExpired { id: id.to_owned() });
        Ok(())
    }

    fn remember(&self, session: &Session) {
        let now = self.now();
        let mut cache = self.cache.borrow_mut();
        cache.put(session.clone(), now, self.config.cache.max_sessions.max(1));
    }

    /// The session, from memory or storage; `None` when absent or just expired.
    pub async fn get(&self, id: &str) -> Result<Option<Session>> {
        ids::validate_session_id(id)?;
        let now = self.now();
        let cached = {
            let ttl = self.config.cache.session_ttl_ms;
            self.cache.borrow_mut().get(id, now, ttl)
        };
        let hit = cached.is_some();
        let session = match cached {
            Some(s) => s,
            None => match self.store.get_session(id).await? {
                Some(s) => {
                    if s.id != id {
                        return Err(Error::corrupt(
                            Some(id),
                            "record holds another session's id",
                        ));
                    }
                    s
                }
                None => return Ok(None),
            },
        };
        if self.is_expired(&session, now) {
            self.expire(id).await?;
            return Ok(None);
        }
        // A hit is already cached and was just made most recently used.
        if !hit {
            self.remember(&session);
        }
        Ok(Some(session))
    }

    pub async fn require(&self, id: &str) -> Result<Session> {
        self.get(id)
            .await?
            .ok_or_else(|| Error::session_not_found(id))
    }

    /// Creates a session with the given id, or a generated `sess_…` one.
    pub async fn create(&self, id: Option<&str>, opts: CreateOptions) -> Result<Session> {
        let id = match id {
            Some(id) => {
                ids::validate_session_id(id)?;
                id.to_owned()
            }
            None => ids::new_session_id(&*self.rng),
        };
        let _guard = self.lock(&id).await;
        self.create_locked(&id, opts).await
    }

    async fn create_locked(&self, id: &str, opts: CreateOptions) -> Result<Session> {
        if let Some(t) = &opts.title {
            validate_title(t)?;
        }
        let metadata = sanitize_metadata(opts.metadata)?;
        if self.get(id).await?.is_some() {
            return Err(Error::new(
                ErrorCode::SessionExists,
                format!("session {} already exists", crate::core::json::quote(id)),
            )
            .with_session(id));
        }
        let mut session = Session::new(id.to_owned(), self.now());
        session.title = opts.title;
        session.metadata = metadata;
        session.max_messages = opts.max_messages;
        self.store.put_session(&session).await?;
        self.remember(&session);
        self.emit(Event::SessionCreated(session.clone()));
        Ok(session)
    }

    /// The existing session (options ignored) or a new one made with them; `true` when created.
    pub async fn get_or_create(&self, id: &str, opts: CreateOptions) -> Result<(Session, bool)> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        match self.get(id).await? {
            Some(s) => Ok((s, false)),
            None => self.create_locked(id, opts).await.map(|s| (s, true)),
        }
    }

    /// Every live session record (expired ones are deleted on the way).
    async fn live_sessions(&self) -> Result<Vec<Session>> {
        let now = self.now();
        let mut live = Vec::new();
        for s in self.store.list_sessions().await? {
            if self.is_expired(&s, now) {
                self.expire(&s.id).await?;
            } else {
                live.push(s);
            }
        }
        Ok(live)
    }

    /// Ids of all sessions in storage, oldest first.
    pub async fn list_ids(&self) -> Result<Vec<String>> {
        let mut all = self.live_sessions().await?;
        sort::sort_by(&mut all, |a, b| {
            a.created_at
                .total_cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(all.into_iter().map(|s| s.id).collect())
    }

    /// A page of sessions ordered by `updatedAt` or `createdAt`, with a cursor for the next one.
    pub async fn query(&self, opts: QueryOptions) -> Result<SessionPage> {
        let limit = opts.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(Error::invalid_argument(format!(
                "limit must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        let after = opts
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, opts.order))
            .transpose()?;
        let order = opts.order;
        let cmp = |a: &(f64, &str), b: &(f64, &str)| {
            let o = a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1));
            if opts.ascending {
                o
            } else {
                o.reverse()
            }
        };
        let mut all = self.live_sessions().await?;
        sort::sort_by(&mut all, |a, b| {
            cmp(&(order.key(a), &a.id), &(order.key(b), &b.id))
        });
        let start = match &after {
            Some((k, id)) => all.partition_point(|s| {
                cmp(&(order.key(s), &s.id), &(*k, id.as_str())) != std::cmp::Ordering::Greater
            }),
            None => 0,
        };
        let sessions: Vec<Session> = all.iter().skip(start).take(limit).cloned().collect();
        let next_cursor = if start + sessions.len() < all.len() {
            sessions.last().map(|s| encode_cursor(order, s))
        } else {
            None
        };
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    pub async fn update(&self, id: &str, opts: UpdateOptions) -> Result<Session> {
        ids::validate_session_id(id)?;
        if let Some(Some(t)) = &opts.title {
            validate_title(t)?;
        }
        let metadata = opts
            .metadata
            .map(|m| sanitize_metadata(Some(m)))
            .transpose()?;
        let _guard = self.lock(id).await;
        let mut session = self.require(id).await?;
        if let Some(title) = opts.title {
            session.title = title;
        }
        if let Some(m) = metadata {
            session.metadata = m;
        }
        session.updated_at = self.now().max(session.updated_at);
        self.store.put_session(&session).await?;
        self.remember(&session);
        self.emit(Event::SessionUpdated(session.clone()));
        Ok(session)
    }

    /// Clears the history; keeps id, title, metadata, runs and usage totals.
    pub async fn reset(&self, id: &str) -> Result<Session> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let mut session = self.require(id).await?;
        session.message_count = 0;
        session.head_seq = None;
        session.first_seq = None;
        session.updated_at = self.now().max(session.updated_at);
        self.store.clear_messages(&session).await?;
        self.remember(&session);
        self.emit(Event::SessionReset(session.clone()));
        Ok(session)
    }

    /// Deletes a session from memory and storage. Returns whether it existed.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let existed = match self.get(id).await {
            Ok(s) => s.is_some(),
            // A damaged session must still be deletable.
            Err(e) if e.code == ErrorCode::StorageCorrupt => true,
            Err(e) => return Err(e),
        };
        if existed {
            self.store.delete_session(id).await?;
            self.cache.borrow_mut().remove(id);
            self.emit(Event::SessionDeleted { id: id.to_owned() });
        }
        Ok(existed)
    }

    pub async fn add_message(&self, id: &str, input: NewMessage) -> Result<Message> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        self.add_message_locked(id, input).await
    }

    /// Appends a message; the caller holds the session's lock. Where the store offers it
    /// ([`Store::append_message`]), the session record is read inside the append's own write
    /// (IndexedDB: the same transaction), so the message is placed after whatever another
    /// context wrote, without a separate read. If another context appended to the session unseen
    /// (no cross-context lock on this platform), the store refuses to overwrite its message and
    /// the append moves to the next free position.
    pub async fn add_message_locked(&self, id: &str, input: NewMessage) -> Result<Message> {
        // Each retry races the other writer afresh (about even odds), so a few dozen tries make
        // a spurious SESSION_BUSY vanishingly unlikely.
        const ATTEMPTS: usize = 24;
        let mut attempt = 1;
        // After a refused position: where the session really ends (its record may lag its newest
        // message on stores without transactions).
        let mut floor: Option<Session> = None;
        loop {
            let now = self.now();
            let expired = std::cell::Cell::new(false);
            // The position this attempt takes (what a refusal says is taken).
            let tried = std::cell::Cell::new(0u64);
            let mut build = |stored: Option<Session>| -> Result<(Session, Message)> {
                let mut session = stored.ok_or_else(|| Error::session_not_found(id))?;
                if session.id != id {
                    return Err(Error::corrupt(
                        Some(id),
                        "record holds another session's id",
                    ));
                }
                if self.is_expired(&session, now) {
                    expired.set(true);
                    return Err(Error::session_not_found(id));
                }
                if let Some(f) = floor.as_ref().filter(|f| f.next_seq > session.next_seq) {
                    session.message_count += f.next_seq - session.next_seq;
                    session.next_seq = f.next_seq;
                }
                let mut message = build_message(&session, input.clone(), now, &*self.rng)?;
                tried.set(message.seq);
                // With branches, the message continues the active one.
                if let Some(head) = session.head_seq {
                    message.parent = Parent::Seq(head);
                    session.head_seq = Some(message.seq);
                }
                session.next_seq = message.seq + 1;
                session.message_count += 1;
                session.updated_at = now.max(session.updated_at);
                Ok((session, message))
            };
            // Under the other contexts' lock the cached record is current (see `lock`): the
            // store need not read it again. Otherwise the store reads it inside the write.
            let known = match &floor {
                None if self.locks.is_exclusive(id) => self.cache.borrow().peek(id).cloned(),
                _ => None,
            };
            let written = match self.store.append_message(id, known, &mut build).await {
                Ok(Some(done)) => Ok(done),
                Ok(None) => match build(Some(self.require(id).await?)) {
                    Ok((session, message)) => self
                        .store
                        .put_message(&session, &message)
                        .await
                        .map(|()| (session, message)),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match written {
                Ok((session, message)) => {
                    self.remember(&session);
                    self.emit(Event::MessageAdded(message.clone()));
                    self.emit(Event::SessionUpdated(session));
                    return Ok(message);
                }
                Err(_) if expired.get() => {
                    self.expire(id).await?;
                    return Err(Error::session_not_found(id));
                }
                Err(e) if e.code == ErrorCode::SessionBusy && attempt < ATTEMPTS => {
                    attempt += 1;
                    floor = Some(self.resync(id, tried.get()).await?);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Re-reads a session written by someone else: the record, corrected by the newest message
    /// actually stored (a record write may lag its message on stores without transactions), and
    /// past `taken`, the position the store just refused: a message written there without its
    /// record (an interrupted write on a store without transactions) is one the record's range
    /// does not reach, so the newest message read may not show it, and the next try would be
    /// refused at the same place forever.
    pub(super) async fn resync(&self, id: &str, taken: u64) -> Result<Session> {
        self.cache.borrow_mut().remove(id);
        let mut session = self.require(id).await?;
        let newest = self.store.get_messages(id, MessageQuery::newest(1)).await?;
        let end = newest.last().map_or(0, |m| m.seq + 1).max(taken + 1);
        if end > session.next_seq {
            session.message_count += end - session.next_seq;
            session.next_seq = end;
        }
        self.remember(&session);
        Ok(session)
    }

    /// Rewrites a message already stored (same `seq`), e.g. a streamed reply as it grows and
    /// when it ends. The caller holds the session's lock.
    pub async fn replace_message_locked(&self, message: &Message) -> Result<Session> {
        let mut session = self.require(&message.session_id).await?;
        session.updated_at = self.now().max(session.updated_at);
        self.store.put_message(&session, message).await?;
        self.remember(&session);
        self.emit(Event::MessageUpdated(message.clone()));
        Ok(session)
    }

    /// The active history, oldest first; with `limit`, only the newest `limit` messages.
    pub async fn history(&self, id: &str, limit: Option<usize>) -> Result<Vec<Message>> {
        let session = self.require(id).await?;
        let query = MessageQuery {
            limit,
            ..MessageQuery::default()
        };
        if session.is_tree() {
            let path = tree::active_messages(&*self.store, &session).await?;
            return Ok(tree::apply_query(path, query));
        }
        let messages = self.store.get_messages(&session.id, query).await?;
        if let Some(bad) = messages.iter().find(|m| m.session_id != session.id) {
            return Err(Error::corrupt(
                Some(id),
                format!("message {} belongs to another session", bad.id),
            ));
        }
        Ok(messages)
    }

    /// [`history`](Self::history) as the store's host values, when the store can hand its
    /// records over as they are (see [`Store::get_host_messages`]); `None`: call `history`.
    pub async fn host_history(
        &self,
        id: &str,
        limit: Option<usize>,
    ) -> Result<Option<HostMessages>> {
        let session = self.require(id).await?;
        if session.is_tree() {
            // The active path is chosen here, from decoded records.
            return Ok(None);
        }
        let query = MessageQuery {
            limit,
            ..MessageQuery::default()
        };
        self.store.get_host_messages(&session.id, query).await
    }

    /// A new run record for a session (not yet stored).
    pub fn new_run(&self, session_id: &str) -> Run {
        Run {
            id: ids::new_run_id(&*self.rng),
            session_id: session_id.to_owned(),
            agent: None,
            provider: None,
            model: None,
            status: RunStatus::Pending,
            created_at: self.now(),
            started_at: None,
            ended_at: None,
            duration_ms: None,
            attempts: 0,
            usage: Default::default(),
            error_code: None,
            error_message: None,
            estimated_input_tokens: None,
        }
    }

    /// Stores a run; when it has just completed, its usage is added to the session's totals.
    pub async fn put_run(&self, run: &Run, add_usage: bool) -> Result<()> {
        let _guard = if add_usage {
            Some(self.lock(&run.session_id).await)
        } else {
            None
        };
        self.put_run_locked(run, add_usage).await
    }

    pub async fn put_run_locked(&self, run: &Run, add_usage: bool) -> Result<()> {
        let mut session = self.require(&run.session_id).await?;
        self.store.put_run(run).await?;
        if add_usage {
            session.usage.add(&run.usage);
            if let Some(estimated) = run.estimated_input_tokens {
                session.calibration =
                    Calibration::update(session.calibration, estimated, run.usage.input_tokens);
            }
            self.store.put_session(&session).await?;
            self.remember(&session);
        }
        self.emit(Event::RunUpdated(run.clone()));
        Ok(())
    }

    /// The session's stored summaries (`summary_buffer`), oldest first.
    pub async fn summaries(&self, id: &str) -> Result<Vec<Summary>> {
        let session = self.require(id).await?;
        let mut all = self.store.get_summaries(&session.id).await?;
        sort::sort_by(&mut all, |a, b| {
            (a.through_seq, a.created_at)
                .partial_cmp(&(b.through_seq, b.created_at))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(all)
    }

    /// Deletes one summary (the context falls back on the previous one); whether it existed.
    pub async fn remove_summary(&self, id: &str, summary_id: &str) -> Result<bool> {
        ids::validate_session_id(id)?;
        let _guard = self.lock(id).await;
        let session = self.require(id).await?;
        let store = &self.store;
        let existed = store
            .get_summaries(&session.id)
            .await?
            .iter()
            .any(|s| s.id == summary_id);
        if existed {
            store.delete_summary(&session.id, summary_id).await?;
        }
        Ok(existed)
    }

    pub async fn runs(&self, id: &str) -> Result<Vec<Run>> {
        let session = self.require(id).await?;
        self.store.get_runs(&session.id).await
    }

    /// The whole session as a versioned bundle: record, every message, runs and summaries.
    pub async fn export(&self, id: &str) -> Result<Bundle> {
        let session = self.require(id).await?;
        // Every message: with branches, the whole tree (the session names its active leaf).
        let messages = tree::all_messages(&*self.store, id).await?;
        let runs = self.store.get_runs(id).await?;
        let summaries = self.store.get_summaries(id).await?;
        Ok(Bundle::new(&session, messages, runs, summaries, self.now()))
    }

    /// Stores an exported session, under its own id or `opts.id`. An existing session with that
    /// id is an error (`SESSION_EXISTS`) unless `opts.overwrite`, which replaces it whole.
    /// Everything is validated before anything is written.
    pub async fn import(&self, bundle: Bundle, opts: ImportOptions) -> Result<Session> {
        let import = prepare_import(bundle, opts.id.as_deref(), &*self.rng)?;
        let _guard = self.lock(&import.session.id).await;
        self.import_locked(import, opts.overwrite).await
    }

    /// Writes a prepared session (an import, a fork) under its id; the caller holds its lock.
    async fn import_locked(&self, import: Import, overwrite: bool) -> Result<Session> {
        let id = import.session.id.clone();
        let existing = match self.get(&id).await {
            Ok(s) => s.is_some(),
            Err(e) if e.code == ErrorCode::StorageCorrupt => true,
            Err(e) => return Err(e),
        };
        if existing {
            if !overwrite {
                return Err(Error::new(
                    ErrorCode::SessionExists,
                    format!(
                        "session {} already exists (pass overwrite: true to replace it)",
                        crate::core::json::quote(&id)
                    ),
                )
                .with_session(&id));
            }
            self.store.delete_session(&id).await?;
            self.cache.borrow_mut().remove(&id);
        }
        // Messages first, each with a record that counts exactly what is written so far: a crash
        // part-way leaves a shorter but consistent session. With branches, each of these records
        // names the message just written as the active leaf: a shorter but readable tree.
        let mut progress = import.session.clone();
        progress.message_count = 0;
        progress.next_seq = 0;
        progress.head_seq = None;
        self.store.put_session(&progress).await?;
        let depths = tree::Tree::new(&import.messages).depths();
        for (m, depth) in import.messages.iter().zip(depths) {
            progress.next_seq = m.seq + 1;
            if import.session.is_tree() {
                progress.head_seq = Some(m.seq);
                progress.message_count = depth;
            } else {
                progress.message_count += 1;
            }
            self.store.put_message(&progress, m).await?;
        }
        for r in &import.runs {
            self.store.put_run(r).await?;
        }
        for s in &import.summaries {
            self.store.put_summary(s).await?;
        }
        self.store.put_session(&import.session).await?;
        self.remember(&import.session);
        self.emit(Event::SessionCreated(import.session.clone()));
        Ok(import.session)
    }

    /// Deletes expired sessions from storage and drops idle ones from memory. Returns the ids
    /// deleted.
    pub async fn sweep(&self) -> Result<Vec<String>> {
        let now = self.now();
        self.cache
            .borrow_mut()
            .evict_idle(now, self.config.cache.session_ttl_ms);
        let mut expired = Vec::new();
        for s in self.store.list_sessions().await? {
            if self.is_expired(&s, now) {
                self.expire(&s.id).await?;
                expired.push(s.id);
            }
        }
        Ok(expired)
    }
}

/// `<order tag><the key's f64 bits in hex>:<id>`: exact (a decimal key would have to be parsed
/// back without loss) and needs neither a float formatter nor a float parser in the module.
fn encode_cursor(order: SessionOrder, s: &Session) -> String {
    format!("{}{:x}:{}", order.tag(), order.key(s).to_bits(), s.id)
}

fn decode_cursor(cursor: &str, order: SessionOrder) -> Result<(f64, String)> {
    let bad = || Error::invalid_argument("cursor is not one this store issued for that order");
    let rest = cursor.strip_prefix(order.tag()).ok_or_else(bad)?;
    let (key, id) = rest.split_once(':').ok_or_else(bad)?;
    let bits = u64::from_str_radix(key, 16).map_err(|_| bad())?;
    let key = f64::from_bits(bits);
    if !key.is_finite() {
        return Err(bad());
    }
    Ok((key, id.to_owned()))
}

#[cfg(test)]
mod tests;
