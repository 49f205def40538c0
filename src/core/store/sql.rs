//! A [`Store`] over a SQL database: the record layout, its statements (SQLite and PostgreSQL
//! dialects, always parameterised), row mapping and migrations by a stored schema version. The
//! database itself is a small [`SqlDriver`] the platform layer implements over what the host
//! gives (a Durable Object's `ctx.storage.sql`, a D1 binding, a `node:sqlite` / `better-sqlite3`
//! database, a `pg.Pool`).
//!
//! Tables (prefix `P`, default `agent_sessions_`):
//!
//! | table | key | columns |
//! |---|---|---|
//! | `P meta` | `key` | `value`; `schema_version` and the store's own values (`kv:{key}`) |
//! | `P sessions` | `id` | `created_at`, `updated_at`, `next_seq` (indexed for listing), `data` |
//! | `P messages` | `(session_id, seq)` | `id`, `data` |
//! | `P runs`, `P summaries` | `(session_id, id)` | `ord` (creation order), `data` |
//!
//! `data` is the record as JSON text, the same records every backend keeps (so encryption at
//! rest, which seals fields of the records, works unchanged). Why this shape:
//! - An append is one transaction: the message row, then the session row. The message insert
//!   replaces a row at its `seq` only when that row has the same message id; when another
//!   writer's message holds the `seq`, the session statement computes a NULL `data` and fails
//!   its NOT NULL constraint, so the transaction writes nothing and the append reports
//!   [`Error::seq_taken`] (on PostgreSQL it is one statement that reports what it wrote, under
//!   a per-session advisory lock). The primary key makes that check hold across processes.
//! - An append's session update leaves `created_at` (and its index) alone: it does not change.
//! - The session row of an append never moves backwards (`next_seq` only grows through appends),
//!   so a late rewrite of a streamed reply cannot undo another writer's newer append.
//! - Newest-N reads are `ORDER BY seq DESC LIMIT n` on the primary key; listing reads session
//!   rows only; deleting a session deletes by key and reads nothing.
//! - A database whose tables were created by a newer schema version is refused with
//!   `STORAGE_UNAVAILABLE` before anything is written to it.

use async_trait::async_trait;
use serde::Serialize;

use super::{HostMessages, MessageQuery, Store};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::model::{Message, Run, Session, Summary};
use crate::core::record_read::FromValue;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;
/// The table prefix used when the configuration names none.
pub const DEFAULT_PREFIX: &str = "agent_sessions_";
/// Values above this lose precision as JavaScript numbers.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Num(f64),
    Text(String),
}

impl SqlValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Integers arrive as numbers (SQLite) or as decimal text (PostgreSQL `bigint`, and the
    /// schema version). Integer parsing only: float parsing would cost the module kilobytes.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            SqlValue::Num(n) if n.fract() == 0.0 => Some(*n as i64),
            SqlValue::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_owned())
}

fn num(n: f64) -> SqlValue {
    SqlValue::Num(n)
}

fn seq_value(seq: u64) -> SqlValue {
    SqlValue::Num((seq as f64).min(MAX_SAFE))
}

/// One statement with its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// A row: the selected columns, in order.
pub type Row = Vec<SqlValue>;

/// What went wrong in the database, as far as the store needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A constraint refused the write (the append guard, a key).
    Constraint,
    /// Locked by another connection or transaction; may work if repeated.
    Busy,
    /// The database (or this connection) is read-only.
    ReadOnly,
    /// The disk, the database's size limit or a quota is full.
    Full,
    /// The database could not be opened or reached, or its connection was closed
    /// (PostgreSQL); a new attempt may work.
    Connection,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqlFailure {
    pub kind: FailureKind,
    pub message: String,
}

/// A database as the store uses it. Implementations classify their host's errors.
#[async_trait(?Send)]
pub trait SqlDriver {
    fn dialect(&self) -> Dialect;
    /// Runs one statement and returns its rows.
    async fn query(&self, statement: &Statement) -> Result<Vec<Row>, SqlFailure>;
    /// Runs the statements in order in one transaction: all of them or none.
    async fn batch(&self, statements: &[Statement]) -> Result<(), SqlFailure>;
    /// Runs a query of stored message records of `session_id` (one `data` column) and gives
    /// them back as the host's values, in the opposite order when `reverse`, when every record
    /// is exactly its public form; `None` when one is not (or the driver cannot), and the store
    /// then decodes them itself. See [`Store::get_host_messages`].
    async fn query_host_messages(
        &self,
        _statement: &Statement,
        _session_id: &str,
        _reverse: bool,
    ) -> Result<Option<HostMessages>, SqlFailure> {
        Ok(None)
    }
}

/// A host failure as one of the crate's storage errors.
pub fn storage_error(failure: SqlFailure) -> Error {
    let SqlFailure { kind, message } = failure;
    let (code, retryable, what) = match kind {
        FailureKind::Busy => (
            ErrorCode::StorageUnavailable,
            true,
            "the database is locked by another connection; nothing was written, try again",
        ),
        FailureKind::ReadOnly => (
            ErrorCode::StorageUnavailable,
            false,
            "the database is read-only; nothing was written",
        ),
        FailureKind::Full => (
            ErrorCode::StorageQuota,
            false,
            "the database is full; nothing was written, earlier data is intact — free space \
             (delete sessions) and try again",
        ),
        FailureKind::Connection => (
            ErrorCode::StorageUnavailable,
            true,
            "could not open or reach the database, or its connection failed; nothing of this call \
             was committed, try again",
        ),
        FailureKind::Constraint | FailureKind::Other => {
            (ErrorCode::Storage, false, "the database refused the call")
        }
    };
    Error::new(code, format!("{what} ({message})")).with_retryable(retryable)
}

/// `?` placeholders as the dialect spells them (`$1, $2, …` for PostgreSQL), `{P}` as the prefix.
/// Our statements hold no string literal with a `?`.
fn render(dialect: Dialect, prefix: &str, template: &str) -> String {
    let (int, real) = match dialect {
        Dialect::Sqlite => ("INTEGER", "REAL"),
        Dialect::Postgres => ("BIGINT", "DOUBLE PRECISION"),
    };
    let template = template
        .replace("{P}", prefix)
        .replace("{I}", int)
        .replace("{R}", real);
    if dialect == Dialect::Sqlite {
        return template;
    }
    let mut out = String::with_capacity(template.len() + 8);
    let mut n = 0;
    for c in template.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Accepted table prefixes: lowercase letters, digits and `_`, not starting with a digit, at
/// most 40 (PostgreSQL folds unquoted names to lowercase).
pub fn validate_prefix(prefix: &str) -> Result<()> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 40
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !prefix.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_config(
            format!(
            "storage.prefix {} must be 1 to 40 lowercase letters, digits or _ (not starting with a \
             digit): it becomes part of table names", crate::core::json::quote(prefix)),
        ))
    }
}

/// The DDL of the current schema, run in one transaction when the tables are missing. Every
/// statement is `IF NOT EXISTS`, so two processes opening a new database at once both succeed.
fn create_schema(dialect: Dialect) -> Vec<&'static str> {
    let mut out = Vec::new();
    if dialect == Dialect::Postgres {
        // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog.
        out.push("SELECT pg_advisory_xact_lock(1095975763, 0)");
    }
    // {I}: a 64-bit integer, {R}: a double, as the dialect spells them.
    let tables = [
        "CREATE TABLE IF NOT EXISTS {P}meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {P}sessions (id TEXT PRIMARY KEY, created_at {R} NOT NULL, \
         updated_at {R} NOT NULL, next_seq {I} NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {P}sessions_updated ON {P}sessions (updated_at)",
        "CREATE INDEX IF NOT EXISTS {P}sessions_created ON {P}sessions (created_at)",
        "CREATE TABLE IF NOT EXISTS {P}messages (session_id TEXT NOT NULL, seq {I} NOT NULL, \
         id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (session_id, seq))",
        "CREATE TABLE IF NOT EXISTS {P}runs (session_id TEXT NOT NULL, id TEXT NOT NULL, \
         ord {I} NOT NULL, data TEXT NOT NULL, PRIMARY KEY (session_id, id))",
        "CREATE INDEX IF NOT EXISTS {P}runs_order ON {P}runs (session_id, ord)",
        "CREATE TABLE IF NOT EXISTS {P}summaries (session_id TEXT NOT NULL, id TEXT NOT NULL, \
         ord {I} NOT NULL, data TEXT NOT NULL, PRIMARY KEY (session_id, id))",
        "CREATE INDEX IF NOT EXISTS {P}summaries_order ON {P}summaries (session_id, ord)",
    ];
    out.extend(tables);
    out.push(
        "INSERT INTO {P}meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO \
         NOTHING",
    );
    out
}

/// Migrations from each older version to the next: none yet (version 1 is the first).
const MIGRATIONS: &[(i64, &[&str])] = &[];

const SESSION_UPSERT: &str =
    "INSERT INTO {P}sessions (id, created_at, updated_at, next_seq, data) \
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, \
     updated_at = excluded.updated_at, next_seq = excluded.next_seq, data = excluded.data";

/// The statements of one store, rendered once for its dialect and prefix.
struct Sql {
    table_exists: String,
    schema_version: String,
    get_session: String,
    put_session: String,
    list_sessions: String,
    delete: [String; 4],
    /// SQLite: the message upsert and the guarded session upsert (a batch). PostgreSQL: one
    /// statement returning whether the message was written.
    append: Vec<String>,
    messages_range: String,
    messages_newest: String,
    clear: [String; 2],
    delete_message: String,
    /// A new message only: a taken `seq` fails the primary key, and with it the transaction.
    insert_message: String,
    put_run: String,
    get_runs: String,
    put_summary: String,
    get_summaries: String,
    delete_summary: String,
    get_meta: String,
    put_meta: String,
}

impl Sql {
    fn new(dialect: Dialect, prefix: &str) -> Sql {
        let r = |t: &str| render(dialect, prefix, t);
        let append =
            match dialect {
                Dialect::Sqlite => {
                    vec![
                r("INSERT INTO {P}messages (session_id, seq, id, data) VALUES (?, ?, ?, ?) \
                   ON CONFLICT (session_id, seq) DO UPDATE SET data = excluded.data \
                   WHERE {P}messages.id = excluded.id"),
                r("INSERT INTO {P}sessions (id, created_at, updated_at, next_seq, data) \
                   VALUES (?, ?, ?, ?, CASE WHEN (SELECT id FROM {P}messages WHERE session_id = ? \
                   AND seq = ?) = ? THEN ? END) ON CONFLICT (id) DO UPDATE SET \
                   updated_at = excluded.updated_at, next_seq = excluded.next_seq, \
                   data = excluded.data \
                   WHERE {P}sessions.next_seq <= excluded.next_seq"),
            ]
                }
                Dialect::Postgres => vec![r(
                    "WITH l AS (SELECT pg_advisory_xact_lock(1095975763, hashtext(?))), \
                 m AS (INSERT INTO {P}messages (session_id, seq, id, data) \
                 SELECT ?, ?::bigint, ?, ? FROM l \
                 ON CONFLICT (session_id, seq) DO UPDATE SET data = excluded.data \
                 WHERE {P}messages.id = excluded.id RETURNING 1), \
                 s AS (INSERT INTO {P}sessions (id, created_at, updated_at, next_seq, data) \
                 SELECT ?, ?::double precision, ?::double precision, ?::bigint, ? FROM m \
                 ON CONFLICT (id) DO UPDATE SET \
                 updated_at = excluded.updated_at, next_seq = excluded.next_seq, \
                 data = excluded.data WHERE {P}sessions.next_seq <= excluded.next_seq RETURNING 1) \
                 SELECT (SELECT count(*) FROM m) AS written",
                )],
            };
        let table_exists = match dialect {
            Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
            // The catalog itself: `information_schema.tables` (a view with privilege checks)
            // was most of a store's opening time on PostgreSQL.
            Dialect::Postgres => {
                "SELECT c.relname FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relname = ? AND c.relkind IN ('r', 'p')"
            }
        };
        let clear_lock = match dialect {
            Dialect::Sqlite => "DELETE FROM {P}summaries WHERE session_id = ?",
            Dialect::Postgres => {
                "WITH l AS (SELECT pg_advisory_xact_lock(1095975763, hashtext(?))) \
                 DELETE FROM {P}summaries WHERE session_id = (SELECT ?::text FROM l)"
            }
        };
        Sql {
            table_exists: r(table_exists),
            schema_version: r("SELECT value FROM {P}meta WHERE key = 'schema_version'"),
            get_session: r("SELECT data FROM {P}sessions WHERE id = ?"),
            put_session: r(SESSION_UPSERT),
            list_sessions: r("SELECT data FROM {P}sessions ORDER BY created_at, id"),
            delete: [
                r("DELETE FROM {P}messages WHERE session_id = ?"),
                r("DELETE FROM {P}runs WHERE session_id = ?"),
                r("DELETE FROM {P}summaries WHERE session_id = ?"),
                r("DELETE FROM {P}sessions WHERE id = ?"),
            ],
            append,
            messages_range: r(
                "SELECT data FROM {P}messages WHERE session_id = ? AND seq >= ? \
                               AND seq < ? ORDER BY seq",
            ),
            messages_newest: r(
                "SELECT data FROM {P}messages WHERE session_id = ? AND seq >= ? \
                                AND seq < ? ORDER BY seq DESC LIMIT ?",
            ),
            clear: [
                r(clear_lock),
                r("DELETE FROM {P}messages WHERE session_id = ?"),
            ],
            delete_message: r("DELETE FROM {P}messages WHERE session_id = ? AND seq = ?"),
            insert_message: r(
                "INSERT INTO {P}messages (session_id, seq, id, data) VALUES (?, ?, ?, ?)",
            ),
            put_run: r(
                "INSERT INTO {P}runs (session_id, id, ord, data) VALUES (?, ?, \
                        (SELECT COALESCE(MAX(ord), 0) + 1 FROM {P}runs WHERE session_id = ?), ?) \
                        ON CONFLICT (session_id, id) DO UPDATE SET data = excluded.data",
            ),
            get_runs: r("SELECT data FROM {P}runs WHERE session_id = ? ORDER BY ord, id"),
            put_summary: r(
                "INSERT INTO {P}summaries (session_id, id, ord, data) VALUES (?, ?, \
                            (SELECT COALESCE(MAX(ord), 0) + 1 FROM {P}summaries \
                            WHERE session_id = ?), ?) \
                            ON CONFLICT (session_id, id) DO UPDATE SET data = excluded.data",
            ),
            get_summaries: r("SELECT data FROM {P}summaries WHERE session_id = ? ORDER BY ord, id"),
            delete_summary: r("DELETE FROM {P}summaries WHERE session_id = ? AND id = ?"),
            get_meta: r("SELECT value FROM {P}meta WHERE key = ?"),
            put_meta: r("INSERT INTO {P}meta (key, value) VALUES (?, ?) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
        }
    }
}

fn stmt(sql: &str, params: Vec<SqlValue>) -> Statement {
    Statement {
        sql: sql.to_owned(),
        params,
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("could not encode: {e}")))
}

fn decode<T: FromValue>(row: &Row, session_id: &str, what: &str) -> Result<T> {
    let text = row
        .first()
        .and_then(SqlValue::as_str)
        .ok_or_else(|| Error::corrupt(Some(session_id), format!("{what}: not text")))?;
    crate::core::json::read(text)
        .map_err(|e| Error::corrupt(Some(session_id), format!("{what}: {e}")))
}

/// The session columns of a session upsert, in [`SESSION_UPSERT`]'s order.
fn session_params(session: &Session) -> Result<Vec<SqlValue>> {
    Ok(vec![
        text(&session.id),
        num(session.created_at),
        num(session.updated_at),
        seq_value(session.next_seq),
        SqlValue::Text(crate::core::record_json::session_json(session)),
    ])
}

/// Sessions, messages, runs and summaries in the tables of one prefix of a SQL database.
pub struct SqlStore {
    db: Box<dyn SqlDriver>,
    dialect: Dialect,
    sql: Sql,
}

impl SqlStore {
    /// Opens the tables under `prefix`, creating them (or migrating them) as needed. Tables of a
    /// newer schema version are `STORAGE_UNAVAILABLE` and left as they are.
    pub async fn open(db: Box<dyn SqlDriver>, prefix: &str) -> Result<SqlStore> {
        validate_prefix(prefix)?;
        let dialect = db.dialect();
        let store = SqlStore {
            sql: Sql::new(dialect, prefix),
            db,
            dialect,
        };
        store.migrate(prefix).await?;
        Ok(store)
    }

    /// The query of a message read, and whether its rows come newest first; `None` when it
    /// can only return nothing.
    fn messages_statement(
        &self,
        session_id: &str,
        query: MessageQuery,
    ) -> Option<(Statement, bool)> {
        let lo = seq_value(query.from_seq.unwrap_or(0));
        let hi = seq_value(query.before_seq.unwrap_or(u64::MAX));
        match query.limit {
            Some(0) => None,
            Some(limit) => Some((
                stmt(
                    &self.sql.messages_newest,
                    vec![text(session_id), lo, hi, num((limit as f64).min(MAX_SAFE))],
                ),
                true,
            )),
            None => Some((
                stmt(&self.sql.messages_range, vec![text(session_id), lo, hi]),
                false,
            )),
        }
    }

    async fn query(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Row>> {
        self.db
            .query(&stmt(sql, params))
            .await
            .map_err(storage_error)
    }

    async fn run(&self, sql: &str, params: Vec<SqlValue>) -> Result<()> {
        self.db
            .batch(&[stmt(sql, params)])
            .await
            .map_err(storage_error)
    }

    async fn stored_version(&self, prefix: &str) -> Result<Option<i64>> {
        let meta = format!("{prefix}meta");
        if self
            .query(&self.sql.table_exists, vec![text(&meta)])
            .await?
            .is_empty()
        {
            return Ok(None);
        }
        let rows = self.query(&self.sql.schema_version, vec![]).await?;
        match rows.first().and_then(|r| r.first()) {
            None => Ok(None),
            Some(v) => v.as_int().map(Some).ok_or_else(|| {
                Error::corrupt(None, format!("{meta}.schema_version is not a number"))
            }),
        }
    }

    async fn migrate(&self, prefix: &str) -> Result<()> {
        let mut version = self.stored_version(prefix).await?;
        if version.is_none() {
            let ddl: Vec<Statement> = create_schema(self.dialect)
                .into_iter()
                .map(|t| stmt(&render(self.dialect, prefix, t), vec![]))
                .collect();
            self.db.batch(&ddl).await.map_err(storage_error)?;
            version = self.stored_version(prefix).await?;
        }
        let mut version = version.unwrap_or(SCHEMA_VERSION);
        if version > SCHEMA_VERSION {
            return Err(Error::new(
                ErrorCode::StorageUnavailable,
                format!(
                    "the tables {prefix}* were written by schema version {version} of \
                     agent-sessions; this version reads up to {SCHEMA_VERSION}: upgrade \
                     agent-sessions (nothing was changed)"
                ),
            ));
        }
        while version < SCHEMA_VERSION {
            let Some((_, steps)) = MIGRATIONS.iter().find(|(from, _)| *from == version) else {
                return Err(Error::corrupt(
                    None,
                    format!("unknown schema version {version} in {prefix}meta"),
                ));
            };
            let next = version + 1;
            let mut batch: Vec<Statement> = steps
                .iter()
                .map(|t| stmt(&render(self.dialect, prefix, t), vec![]))
                .collect();
            batch.push(stmt(
                &self.sql.put_meta,
                vec![text("schema_version"), text(&next.to_string())],
            ));
            self.db.batch(&batch).await.map_err(storage_error)?;
            version = next;
        }
        Ok(())
    }

    fn rows_of<T: FromValue>(rows: &[Row], session_id: &str, what: &str) -> Result<Vec<T>> {
        rows.iter().map(|r| decode(r, session_id, what)).collect()
    }
}

#[async_trait(?Send)]
impl Store for SqlStore {
    async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let rows = self.query(&self.sql.get_session, vec![text(id)]).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let session: Session = decode(row, id, "session record")?;
        if session.id != id {
            return Err(Error::corrupt(
                Some(id),
                "record holds another session's id",
            ));
        }
        Ok(Some(session))
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        self.run(&self.sql.put_session, session_params(session)?)
            .await
    }

    /// Rows that cannot be read are left out (reading one by id reports `STORAGE_CORRUPT`).
    async fn list_sessions(&self) -> Result<Vec<Session>> {
        let rows = self.query(&self.sql.list_sessions, vec![]).await?;
        Ok(rows.iter().filter_map(|r| decode(r, "", "").ok()).collect())
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        let batch: Vec<Statement> = self
            .sql
            .delete
            .iter()
            .map(|s| stmt(s, vec![text(id)]))
            .collect();
        self.db.batch(&batch).await.map_err(storage_error)
    }

    async fn put_message(&self, session: &Session, message: &Message) -> Result<()> {
        let sid = &session.id;
        let data = crate::core::record_json::message_json(message);
        let seq = seq_value(message.seq);
        let [id, created, updated, next, sdata]: [SqlValue; 5] = session_params(session)?
            .try_into()
            .map_err(|_| Error::internal("session params"))?;
        let taken = || Error::seq_taken(sid, message.seq);
        match self.dialect {
            Dialect::Sqlite => {
                let batch = [
                    stmt(
                        &self.sql.append[0],
                        vec![
                            text(sid),
                            seq.clone(),
                            text(&message.id),
                            SqlValue::Text(data),
                        ],
                    ),
                    stmt(
                        &self.sql.append[1],
                        vec![
                            id,
                            created,
                            updated,
                            next,
                            text(sid),
                            seq,
                            text(&message.id),
                            sdata,
                        ],
                    ),
                ];
                match self.db.batch(&batch).await {
                    Err(f) if f.kind == FailureKind::Constraint => Err(taken()),
                    other => other.map_err(storage_error),
                }
            }
            Dialect::Postgres => {
                let params = vec![
                    text(sid),
                    text(sid),
                    seq,
                    text(&message.id),
                    SqlValue::Text(data),
                    id,
                    created,
                    updated,
                    next,
                    sdata,
                ];
                let rows = self.query(&self.sql.append[0], params).await?;
                let written = rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(|v| v.as_int());
                if written == Some(1) {
                    Ok(())
                } else {
                    Err(taken())
                }
            }
        }
    }

    async fn get_messages(&self, session_id: &str, query: MessageQuery) -> Result<Vec<Message>> {
        let Some((statement, newest_first)) = self.messages_statement(session_id, query) else {
            return Ok(Vec::new());
        };
        let mut rows = self.db.query(&statement).await.map_err(storage_error)?;
        if newest_first {
            rows.reverse();
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows.iter_mut() {
            let message: Message = decode(row, session_id, "message")?;
            if message.session_id != session_id {
                return Err(Error::corrupt(
                    Some(session_id),
                    format!("the row at seq {} holds another message", message.seq),
                ));
            }
            out.push(message);
        }
        Ok(out)
    }

    async fn get_host_messages(
        &self,
        session_id: &str,
        query: MessageQuery,
    ) -> Result<Option<HostMessages>> {
        match self.messages_statement(session_id, query) {
            None => Ok(None),
            Some((statement, newest_first)) => self
                .db
                .query_host_messages(&statement, session_id, newest_first)
                .await
                .map_err(storage_error),
        }
    }

    async fn clear_messages(&self, session: &Session) -> Result<()> {
        let sid = text(&session.id);
        let first = match self.dialect {
            Dialect::Sqlite => vec![sid.clone()],
            Dialect::Postgres => vec![sid.clone(), sid.clone()],
        };
        let batch = [
            stmt(&self.sql.clear[0], first),
            stmt(&self.sql.clear[1], vec![sid]),
            stmt(&self.sql.put_session, session_params(session)?),
        ];
        self.db.batch(&batch).await.map_err(storage_error)
    }

    /// One transaction, in the crash order (new rows, the record, the deletions) for a host
    /// that runs a batch statement by statement (a Durable Object without `transactionSync`).
    async fn write_messages(
        &self,
        session: &Session,
        delete: &[u64],
        put: &[Message],
    ) -> Result<()> {
        let sid = || text(&session.id);
        let mut batch = Vec::with_capacity(put.len() + delete.len() + 1);
        for m in put {
            let data = SqlValue::Text(crate::core::record_json::message_json(m));
            let params = vec![sid(), seq_value(m.seq), text(&m.id), data];
            batch.push(stmt(&self.sql.insert_message, params));
        }
        batch.push(stmt(&self.sql.put_session, session_params(session)?));
        for &seq in delete {
            batch.push(stmt(&self.sql.delete_message, vec![sid(), seq_value(seq)]));
        }
        match self.db.batch(&batch).await {
            Err(f) if f.kind == FailureKind::Constraint => Err(match put.first() {
                Some(m) => Error::seq_taken(&session.id, m.seq),
                None => storage_error(f),
            }),
            other => other.map_err(storage_error),
        }
    }

    async fn put_run(&self, run: &Run) -> Result<()> {
        let sid = &run.session_id;
        self.run(
            &self.sql.put_run,
            vec![
                text(sid),
                text(&run.id),
                text(sid),
                SqlValue::Text(encode(run)?),
            ],
        )
        .await
    }

    async fn get_runs(&self, session_id: &str) -> Result<Vec<Run>> {
        let rows = self
            .query(&self.sql.get_runs, vec![text(session_id)])
            .await?;
        Self::rows_of(&rows, session_id, "run")
    }

    async fn put_summary(&self, summary: &Summary) -> Result<()> {
        let sid = &summary.session_id;
        self.run(
            &self.sql.put_summary,
            vec![
                text(sid),
                text(&summary.id),
                text(sid),
                SqlValue::Text(encode(summary)?),
            ],
        )
        .await
    }

    async fn get_summaries(&self, session_id: &str) -> Result<Vec<Summary>> {
        let rows = self
            .query(&self.sql.get_summaries, vec![text(session_id)])
            .await?;
        Self::rows_of(&rows, session_id, "summary")
    }

    async fn delete_summary(&self, session_id: &str, summary_id: &str) -> Result<()> {
        self.run(
            &self.sql.delete_summary,
            vec![text(session_id), text(summary_id)],
        )
        .await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        let rows = self
            .query(&self.sql.get_meta, vec![text(&format!("kv:{key}"))])
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_str())
            .map(str::to_owned))
    }

    async fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.run(
            &self.sql.put_meta,
            vec![text(&format!("kv:{key}")), text(value)],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Records statements and answers queries from a script: logic only (the real tests run
    /// real SQLite and PostgreSQL).
    #[derive(Default)]
    struct Fake {
        dialect: Option<Dialect>,
        log: RefCell<Vec<String>>,
        answers: RefCell<Vec<(String, Vec<Row>)>>,
        fail_batch: RefCell<Option<SqlFailure>>,
    }

    #[async_trait(?Send)]
    impl SqlDriver for Rc<Fake> {
        fn dialect(&self) -> Dialect {
            self.dialect.unwrap_or(Dialect::Sqlite)
        }
        async fn query(&self, s: &Statement) -> Result<Vec<Row>, SqlFailure> {
            self.log.borrow_mut().push(s.sql.clone());
            let answers = self.answers.borrow();
            Ok(answers
                .iter()
                .find(|(needle, _)| s.sql.contains(needle.as_str()))
                .map(|(_, rows)| rows.clone())
                .unwrap_or_default())
        }
        async fn batch(&self, ss: &[Statement]) -> Result<(), SqlFailure> {
            if let Some(f) = self.fail_batch.borrow().clone() {
                return Err(f);
            }
            self.log
                .borrow_mut()
                .extend(ss.iter().map(|s| s.sql.clone()));
            Ok(())
        }
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        futures_executor::block_on(f)
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            render(
                Dialect::Postgres,
                "p_",
                "SELECT ? FROM {P}t WHERE a = ? AND b = ?"
            ),
            "SELECT $1 FROM p_t WHERE a = $2 AND b = $3"
        );
        assert_eq!(render(Dialect::Sqlite, "p_", "x = ?"), "x = ?");
    }

    #[test]
    fn prefixes_are_identifiers() {
        assert!(validate_prefix("agent_sessions_").is_ok());
        for bad in ["", "A_", "a-b", "x; DROP TABLE y", "1a", "a b", "\"q"] {
            assert_eq!(
                validate_prefix(bad).unwrap_err().code,
                ErrorCode::InvalidConfig,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_new_database_gets_the_schema_in_one_batch() {
        let fake = Rc::new(Fake::default());
        fake.answers
            .borrow_mut()
            .push(("schema_version".into(), vec![]));
        block(SqlStore::open(Box::new(fake.clone()), "t_")).unwrap();
        let log = fake.log.borrow();
        assert!(log
            .iter()
            .any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS t_messages")));
        assert!(log.iter().any(|s| s.contains("'schema_version', '1'")));
    }

    #[test]
    fn a_newer_schema_is_refused_and_never_touched() {
        let fake = Rc::new(Fake::default());
        fake.answers.borrow_mut().extend([
            ("sqlite_master".into(), vec![vec![text("t_meta")]]),
            ("schema_version".into(), vec![vec![text("2")]]),
        ]);
        let err = block(SqlStore::open(Box::new(fake.clone()), "t_"))
            .err()
            .expect("refused");
        assert_eq!(err.code, ErrorCode::StorageUnavailable);
        assert!(err.message.contains("version 2"), "{}", err.message);
        assert!(
            fake.log.borrow().iter().all(|s| s.starts_with("SELECT")),
            "only reads: {:?}",
            fake.log.borrow()
        );
    }

    #[test]
    fn failures_map_to_typed_storage_errors() {
        let cases = [
            (FailureKind::Busy, ErrorCode::StorageUnavailable, true),
            (FailureKind::ReadOnly, ErrorCode::StorageUnavailable, false),
            (FailureKind::Full, ErrorCode::StorageQuota, false),
            (FailureKind::Connection, ErrorCode::StorageUnavailable, true),
            (FailureKind::Other, ErrorCode::Storage, false),
        ];
        for (kind, code, retryable) in cases {
            let e = storage_error(SqlFailure {
                kind,
                message: "host says no".into(),
            });
            assert_eq!((e.code, e.retryable), (code, retryable), "{kind:?}");
            assert!(e.message.contains("host says no"));
        }
    }

    #[test]
    fn a_refused_append_guard_is_another_writers_seq() {
        let fake = Rc::new(Fake::default());
        fake.answers.borrow_mut().extend([
            ("sqlite_master".into(), vec![vec![text("t_meta")]]),
            ("schema_version".into(), vec![vec![text("1")]]),
        ]);
        let store = block(SqlStore::open(Box::new(fake.clone()), "t_")).unwrap();
        *fake.fail_batch.borrow_mut() = Some(SqlFailure {
            kind: FailureKind::Constraint,
            message: "NOT NULL constraint failed".into(),
        });
        let mut s = Session::new("s".into(), 0.0);
        s.next_seq = 1;
        let m: Message = serde_json::from_value(serde_json::json!({
            "id": "m0", "sessionId": "s", "seq": 0, "role": "user", "content": "x",
            "createdAt": 0.0
        }))
        .unwrap();
        let err = block(store.put_message(&s, &m)).unwrap_err();
        assert_eq!(err.code, ErrorCode::SessionBusy);
        assert!(err.retryable);
    }
}
