//! A host's SQL database as a [`SqlDriver`], taken as the host gives it and told apart by shape:
//!
//! - a Durable Object's `ctx.storage` (has `sql.exec` and `transactionSync`: a batch runs inside
//!   `transactionSync`, all or nothing) or its `ctx.storage.sql` alone (`exec`, no `prepare`: a
//!   batch runs in one synchronous turn, which the object commits as one write; statements are
//!   ordered so that a refused append has written nothing before it fails);
//! - a D1 binding (`prepare` and `batch`: `prepare(sql).bind(…).all()`, `batch([…])` atomic);
//! - a `node:sqlite` `DatabaseSync` or a `better-sqlite3` `Database` (`prepare` and `exec`,
//!   synchronous: statements are prepared once and cached, a batch is `BEGIN IMMEDIATE … COMMIT`,
//!   and opening sets `journal_mode = WAL` and `synchronous = FULL`);
//! - a `pg.Pool` (`query` and `connect`: a batch is `BEGIN … COMMIT` on one pooled client, which
//!   is destroyed rather than reused when its connection failed).
//!
//! Host errors are classified by their codes (`SQLITE_*`, node:sqlite's `errcode`, PostgreSQL's
//! SQLSTATE) and, for hosts that only give a message (Durable Objects, D1), by its text.

use std::cell::RefCell;

use async_trait::async_trait;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::wake::function_property;
use crate::core::error::{Error, Result};
use crate::core::store::sql::{
    Dialect, FailureKind, Row, SqlDriver, SqlFailure, SqlValue, Statement,
};
#[cfg(feature = "sql")]
use crate::core::store::HostMessages;

/// Stored message records handed to JavaScript as they are (`records.js`): one `JSON.parse`
/// per record and a check that it is exactly its public form, instead of a crossing into Rust,
/// a decode, a re-encode and a parse.
#[cfg(feature = "sql")]
mod records {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/platform/records.js")]
    extern "C" {
        /// The records as message objects, or `null` when one is not exactly its public form.
        #[wasm_bindgen(catch, js_name = publicMessages)]
        pub fn public_messages(
            rows: &JsValue,
            session_id: &str,
            reverse: bool,
        ) -> Result<JsValue, JsValue>;

        /// A synchronous database's write transaction in one call: `begin`, each statement
        /// with its parameters, `commit`; `ROLLBACK` (by `exec`) and the error thrown on a
        /// failure after `begin`.
        #[wasm_bindgen(catch, js_name = syncTransaction)]
        pub fn sync_transaction(
            db: &JsValue,
            exec: &js_sys::Function,
            begin: &JsValue,
            commit: &JsValue,
            statements: &js_sys::Array,
            params: &js_sys::Array,
        ) -> Result<(), JsValue>;
    }
}

enum Kind {
    Durable {
        sql: JsValue,
        exec: Function,
        /// `ctx.storage` and its `transactionSync`, when given the storage rather than `sql`.
        tx: Option<(JsValue, Function)>,
    },
    D1 {
        db: JsValue,
        prepare: Function,
        batch: Function,
    },
    Sync {
        db: JsValue,
        prepare: Function,
        exec: Function,
        /// Prepared statements by SQL text (a store uses a fixed set of about 20: a list is
        /// smaller in the module than a hash map, and as fast).
        cache: RefCell<Vec<Prepared>>,
    },
    Postgres {
        pool: JsValue,
        query: Function,
        connect: Function,
    },
}

/// A prepared statement of a synchronous database with its `run` and `all` (looked up once: a
/// property read per call was a measurable part of an append).
#[derive(Clone)]
struct Prepared {
    sql: String,
    statement: JsValue,
    run: Option<Function>,
    all: Option<Function>,
}

pub struct HostSql {
    kind: Kind,
    what: &'static str,
}

fn prop(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn has_fn(target: &JsValue, name: &str) -> bool {
    function_property(target, name).is_some()
}

impl HostSql {
    /// `{ type: "sqlite", db }`: a Durable Object's storage or SQL, a D1 binding, or a Node
    /// SQLite database. Anything else is `INVALID_CONFIG`.
    pub fn sqlite(db: JsValue) -> Result<HostSql> {
        let sql = prop(&db, "sql");
        if let (Some(exec), Some(tx)) = (
            function_property(&sql, "exec"),
            function_property(&db, "transactionSync"),
        ) {
            return Ok(HostSql {
                kind: Kind::Durable {
                    sql,
                    exec,
                    tx: Some((db, tx)),
                },
                what: "Durable Object SQL storage",
            });
        }
        let prepare = function_property(&db, "prepare");
        let exec = function_property(&db, "exec");
        if let (Some(exec), None) = (&exec, &prepare) {
            return Ok(HostSql {
                kind: Kind::Durable {
                    sql: db,
                    exec: exec.clone(),
                    tx: None,
                },
                what: "Durable Object SQL storage",
            });
        }
        match (prepare, function_property(&db, "batch"), exec) {
            (Some(prepare), Some(batch), _) => Ok(HostSql {
                kind: Kind::D1 { db, prepare, batch },
                what: "D1",
            }),
            (Some(prepare), None, Some(exec)) => {
                let what = if has_fn(&db, "transaction") && has_fn(&db, "pragma") {
                    "SQLite (better-sqlite3)"
                } else {
                    "SQLite (node:sqlite)"
                };
                // Durability: an acknowledged append survives a crash (WAL, fsync at commit). An
                // in-memory or read-only database keeps its mode; that is not an error here.
                for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"] {
                    let _ = exec.call1(&db, &JsValue::from_str(pragma));
                }
                Ok(HostSql {
                    kind: Kind::Sync {
                        db,
                        prepare,
                        exec,
                        cache: RefCell::new(Vec::new()),
                    },
                    what,
                })
            }
            _ => Err(Error::invalid_config(
                "storage.db must be a SQLite database as the host gives it: a Durable Object's \
                 ctx.storage (or ctx.storage.sql), a D1 binding, a node:sqlite DatabaseSync or a \
                 better-sqlite3 Database",
            )),
        }
    }

    /// `{ type: "postgres", pool }`: a `pg.Pool` (not a single `pg.Client`, whose queries two
    /// concurrent transactions would interleave).
    pub fn postgres(pool: JsValue) -> Result<HostSql> {
        let is_pool = prop(&pool, "totalCount").as_f64().is_some();
        match (
            function_property(&pool, "query"),
            function_property(&pool, "connect"),
        ) {
            (Some(query), Some(connect)) if is_pool => Ok(HostSql {
                kind: Kind::Postgres {
                    pool,
                    query,
                    connect,
                },
                what: "PostgreSQL",
            }),
            _ => Err(Error::invalid_config(
                "storage.pool must be a pg.Pool (new pg.Pool({ connectionString })), or pass \
                 storage.url",
            )),
        }
    }
}

fn params(values: &[SqlValue]) -> Array {
    values
        .iter()
        .map(|v| match v {
            SqlValue::Null => JsValue::NULL,
            SqlValue::Num(n) => JsValue::from_f64(*n),
            SqlValue::Text(s) => JsValue::from_str(s),
        })
        .collect()
}

fn value_of(v: JsValue) -> SqlValue {
    if let Some(s) = v.as_string() {
        SqlValue::Text(s)
    } else if let Some(n) = v.as_f64() {
        SqlValue::Num(n)
    } else if v.is_bigint() {
        SqlValue::Text(js_sys::JsString::from(v).as_string().unwrap_or_default())
    } else {
        SqlValue::Null
    }
}

/// Rows given as arrays, as objects (columns in select order), or as bare values (one column).
///
/// The text cells cross into Rust as one string, joined with NUL, rather than one crossing (and
/// one copy through the glue) each: a history of 2,000 records is 2,000 strings. NUL is in no
/// record the library writes; if a cell holds one anyway the pieces do not add up and each cell
/// is read on its own, so what a row holds never depends on this.
fn rows_of(rows: &JsValue) -> Vec<Row> {
    if !Array::is_array(rows) {
        return Vec::new();
    }
    // Each cell read now, except text, which is `Err(the JS string)` until the join below.
    let texts = Array::new();
    let mut cell = |v: JsValue| {
        if v.is_string() {
            texts.push(&v);
            Err(v)
        } else {
            Ok(value_of(v))
        }
    };
    let cells: Vec<Vec<Result<SqlValue, JsValue>>> = Array::from(rows)
        .iter()
        .map(|row| {
            if Array::is_array(&row) {
                Array::from(&row).iter().map(&mut cell).collect()
            } else if row.is_object() {
                Object::values(row.unchecked_ref())
                    .iter()
                    .map(&mut cell)
                    .collect()
            } else {
                vec![cell(row)]
            }
        })
        .collect();
    // The pieces, only when they are exactly the cells: a NUL inside a cell adds a piece.
    let mut joined = match texts.length() {
        0 | 1 => None,
        n => {
            let text = String::from(texts.join("\0"));
            let pieces: Vec<String> = text.split('\0').map(str::to_owned).collect();
            (pieces.len() == n as usize).then(|| pieces.into_iter())
        }
    };
    cells
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| {
                    cell.unwrap_or_else(|text| match joined.as_mut().and_then(Iterator::next) {
                        Some(piece) => SqlValue::Text(piece),
                        None => value_of(text),
                    })
                })
                .collect()
        })
        .collect()
}

/// What a host threw, by kind.
fn classify(what: &str, thrown: &JsValue) -> SqlFailure {
    let code = prop(thrown, "code").as_string().unwrap_or_default();
    // node:sqlite: `errcode` is SQLite's (extended) result code.
    let errcode = prop(thrown, "errcode").as_f64().map(|n| n as i64 & 0xff);
    let message = prop(thrown, "message")
        .as_string()
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "no details".to_owned());
    let m = message.to_ascii_lowercase();
    let sqlstate = code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric());
    let class = if sqlstate { &code[..2] } else { "" };
    let any = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    let kind = if code.starts_with("SQLITE_CONSTRAINT")
        || errcode == Some(19)
        || class == "23"
        || any(&[
            "constraint failed",
            "sqlite_constraint",
            "violates not-null",
        ]) {
        FailureKind::Constraint
    } else if code.starts_with("SQLITE_BUSY")
        || code.starts_with("SQLITE_LOCKED")
        || matches!(errcode, Some(5 | 6))
        || matches!(code.as_str(), "55P03" | "40P01" | "40001")
        || any(&[
            "database is locked",
            "sqlite_busy",
            "database table is locked",
        ])
    {
        FailureKind::Busy
    } else if code.starts_with("SQLITE_READONLY")
        || errcode == Some(8)
        || code == "25006"
        || any(&["readonly database", "read-only", "sqlite_readonly"])
    {
        FailureKind::ReadOnly
    } else if code.starts_with("SQLITE_FULL")
        || errcode == Some(13)
        || class == "53"
        || any(&[
            "database or disk is full",
            "sqlite_full",
            "exceeded maximum db size",
        ])
    {
        FailureKind::Full
    } else if code.starts_with("SQLITE_CANTOPEN")
        || errcode == Some(14)
        || class == "08"
        || matches!(code.as_str(), "57P01" | "57P02" | "57P03")
        || matches!(
            code.as_str(),
            "ECONNREFUSED" | "ECONNRESET" | "EPIPE" | "ETIMEDOUT" | "ENOTFOUND" | "EHOSTUNREACH"
        )
        || any(&[
            "connection terminated",
            "connection error",
            "terminating connection",
            "not queryable",
            "timeout exceeded when trying to connect",
            "unable to open database",
            "cannot open database",
        ])
    {
        FailureKind::Connection
    } else {
        FailureKind::Other
    };
    let label = if code.is_empty() {
        String::new()
    } else {
        format!("{code}: ")
    };
    SqlFailure {
        kind,
        message: format!("{what}: {label}{message}"),
    }
}

impl HostSql {
    fn fail(&self, thrown: &JsValue) -> SqlFailure {
        classify(self.what, thrown)
    }

    fn apply(&self, f: &Function, this: &JsValue, args: &Array) -> Result<JsValue, SqlFailure> {
        f.apply(this, args).map_err(|e| self.fail(&e))
    }

    async fn wait(&self, value: JsValue) -> Result<JsValue, SqlFailure> {
        JsFuture::from(Promise::resolve(&value))
            .await
            .map_err(|e| self.fail(&e))
    }

    fn method(&self, target: &JsValue, name: &str) -> Result<Function, SqlFailure> {
        function_property(target, name).ok_or_else(|| SqlFailure {
            kind: FailureKind::Other,
            message: format!("{}: the object has no {name}()", self.what),
        })
    }

    /// A prepared statement of a synchronous database, from the cache.
    fn prepared(
        &self,
        db: &JsValue,
        prepare: &Function,
        cache: &RefCell<Vec<Prepared>>,
        sql: &str,
    ) -> Result<Prepared, SqlFailure> {
        if let Some(p) = cache.borrow().iter().find(|p| p.sql == sql) {
            return Ok(p.clone());
        }
        let s = prepare
            .call1(db, &JsValue::from_str(sql))
            .map_err(|e| self.fail(&e))?;
        // Rows as values, not objects: better-sqlite3 `pluck` (our queries select one column),
        // node:sqlite `setReturnArrays` where this Node has it.
        if prop(&s, "reader").as_bool() == Some(true) {
            if let Some(pluck) = function_property(&s, "pluck") {
                let _ = pluck.call1(&s, &JsValue::TRUE);
            }
        } else if let Some(arrays) = function_property(&s, "setReturnArrays") {
            let _ = arrays.call1(&s, &JsValue::TRUE);
        }
        let p = Prepared {
            sql: sql.to_owned(),
            run: function_property(&s, "run"),
            all: function_property(&s, "all"),
            statement: s,
        };
        cache.borrow_mut().push(p.clone());
        Ok(p)
    }

    /// BEGIN, COMMIT and each statement of a batch, when all are prepared already.
    #[cfg(feature = "sql")]
    fn all_cached(
        &self,
        cache: &RefCell<Vec<Prepared>>,
        statements: &[Statement],
    ) -> Option<(JsValue, JsValue, Array)> {
        let cache = cache.borrow();
        let find = |sql: &str| {
            cache
                .iter()
                .find(|p| p.sql == sql)
                .map(|p| p.statement.clone())
        };
        let (begin, commit) = (find("BEGIN IMMEDIATE")?, find("COMMIT")?);
        let prepared = Array::new();
        for s in statements {
            prepared.push(&find(&s.sql)?);
        }
        Some((begin, commit, prepared))
    }

    fn missing(&self, name: &str) -> SqlFailure {
        SqlFailure {
            kind: FailureKind::Other,
            message: format!("{}: the statement has no {name}()", self.what),
        }
    }

    fn sync_run(
        &self,
        db: &JsValue,
        prepare: &Function,
        cache: &RefCell<Vec<Prepared>>,
        s: &Statement,
    ) -> Result<(), SqlFailure> {
        let p = self.prepared(db, prepare, cache, &s.sql)?;
        let run = p.run.as_ref().ok_or_else(|| self.missing("run"))?;
        self.apply(run, &p.statement, &params(&s.params)).map(drop)
    }

    fn exec_text(&self, exec: &Function, db: &JsValue, sql: &str) -> Result<(), SqlFailure> {
        exec.call1(db, &JsValue::from_str(sql))
            .map(drop)
            .map_err(|e| self.fail(&e))
    }

    fn d1_bound(
        &self,
        db: &JsValue,
        prepare: &Function,
        s: &Statement,
    ) -> Result<JsValue, SqlFailure> {
        let st = prepare
            .call1(db, &JsValue::from_str(&s.sql))
            .map_err(|e| self.fail(&e))?;
        if s.params.is_empty() {
            return Ok(st);
        }
        let bind = self.method(&st, "bind")?;
        self.apply(&bind, &st, &params(&s.params))
    }

    /// A query's rows as the host gives them (an array of rows, objects or bare values).
    async fn rows(&self, s: &Statement) -> Result<JsValue, SqlFailure> {
        match &self.kind {
            Kind::Durable { sql, exec, .. } => {
                let cursor = self.apply(exec, sql, &exec_args(s))?;
                let to_array = self.method(&cursor, "toArray")?;
                self.apply(&to_array, &cursor, &Array::new())
            }
            Kind::D1 { db, prepare, .. } => {
                let st = self.d1_bound(db, prepare, s)?;
                let all = self.method(&st, "all")?;
                let out = self.wait(self.apply(&all, &st, &Array::new())?).await?;
                Ok(prop(&out, "results"))
            }
            Kind::Sync {
                db, prepare, cache, ..
            } => {
                let p = self.prepared(db, prepare, cache, &s.sql)?;
                let all = p.all.as_ref().ok_or_else(|| self.missing("all"))?;
                self.apply(all, &p.statement, &params(&s.params))
            }
            Kind::Postgres { pool, query, .. } => {
                let out = query.call1(pool, &pg_query(s)).map_err(|e| self.fail(&e))?;
                let out = self.wait(out).await?;
                Ok(prop(&out, "rows"))
            }
        }
    }

    async fn pg(&self, target: &JsValue, s: &Statement) -> Result<JsValue, SqlFailure> {
        let query = self.method(target, "query")?;
        let out = query
            .call1(target, &pg_query(s))
            .map_err(|e| self.fail(&e))?;
        self.wait(out).await
    }
}

/// A `pg` query config: rows as arrays, and a statement name, so each pooled connection parses
/// and plans a statement once (the append's CTE costs about a millisecond to plan).
fn pg_query(s: &Statement) -> JsValue {
    let config = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&config, &JsValue::from_str(k), v);
    };
    set("text", &JsValue::from_str(&s.sql));
    set("values", &params(&s.params));
    set("rowMode", &JsValue::from_str("array"));
    if !s.params.is_empty() || s.sql.starts_with("SELECT") {
        // FNV-1a of the text: one name per distinct statement.
        let hash = s.sql.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
        set(
            "name",
            &JsValue::from_str(&format!("agent_sessions_{hash:016x}")),
        );
    }
    config.into()
}

fn exec_args(s: &Statement) -> Array {
    let args = params(&s.params);
    args.unshift(&JsValue::from_str(&s.sql));
    args
}

#[async_trait(?Send)]
impl SqlDriver for HostSql {
    fn dialect(&self) -> Dialect {
        match self.kind {
            Kind::Postgres { .. } => Dialect::Postgres,
            _ => Dialect::Sqlite,
        }
    }

    async fn query(&self, s: &Statement) -> Result<Vec<Row>, SqlFailure> {
        Ok(rows_of(&self.rows(s).await?))
    }

    #[cfg(feature = "sql")]
    async fn query_host_messages(
        &self,
        s: &Statement,
        session_id: &str,
        reverse: bool,
    ) -> Result<Option<HostMessages>, SqlFailure> {
        // A throw (it should not) is "not handed over": the store then decodes the records.
        let messages = records::public_messages(&self.rows(s).await?, session_id, reverse)
            .unwrap_or(JsValue::NULL);
        Ok((!messages.is_null()).then(|| Box::new(messages) as HostMessages))
    }

    async fn batch(&self, statements: &[Statement]) -> Result<(), SqlFailure> {
        match &self.kind {
            Kind::Durable { sql, exec, tx } => {
                let Some((storage, transaction_sync)) = tx else {
                    for s in statements {
                        self.apply(exec, sql, &exec_args(s))?;
                    }
                    return Ok(());
                };
                let (sql, exec) = (sql.clone(), exec.clone());
                let all: Vec<Array> = statements.iter().map(exec_args).collect();
                let body = Closure::once_into_js(move || -> Result<(), JsValue> {
                    for args in &all {
                        exec.apply(&sql, args)?;
                    }
                    Ok(())
                });
                transaction_sync
                    .call1(storage, &body)
                    .map(drop)
                    .map_err(|e| self.fail(&e))
            }
            Kind::D1 { db, prepare, batch } => {
                if let [one] = statements {
                    let st = self.d1_bound(db, prepare, one)?;
                    let run = self.method(&st, "run")?;
                    return self
                        .wait(self.apply(&run, &st, &Array::new())?)
                        .await
                        .map(drop);
                }
                let bound = Array::new();
                for s in statements {
                    bound.push(&self.d1_bound(db, prepare, s)?);
                }
                let out = batch.call1(db, &bound).map_err(|e| self.fail(&e))?;
                self.wait(out).await.map(drop)
            }
            Kind::Sync {
                db,
                prepare,
                exec,
                cache,
            } => {
                if let [one] = statements {
                    return self.sync_run(db, prepare, cache, one);
                }
                // Statements seen before (an append's, after the first) run as one call into
                // JavaScript for the whole transaction. A first batch is prepared statement by
                // statement as it runs: a later statement may name a table an earlier creates.
                #[cfg(feature = "sql")]
                if let Some(cached) = self.all_cached(cache, statements) {
                    let (begin, commit, prepared) = cached;
                    let args = Array::new();
                    for s in statements {
                        args.push(&params(&s.params));
                    }
                    return records::sync_transaction(db, exec, &begin, &commit, &prepared, &args)
                        .map_err(|e| self.fail(&e));
                }
                // Synchronous from BEGIN to COMMIT: nothing else in this process runs between.
                // BEGIN and COMMIT are prepared once too (`exec` parses its text every time).
                let control = |sql: &str| Statement {
                    sql: sql.to_owned(),
                    params: Vec::new(),
                };
                self.sync_run(db, prepare, cache, &control("BEGIN IMMEDIATE"))?;
                let done = statements
                    .iter()
                    .try_for_each(|s| self.sync_run(db, prepare, cache, s))
                    .and_then(|()| self.sync_run(db, prepare, cache, &control("COMMIT")));
                if done.is_err() {
                    // Already rolled back by SQLite in some failures; then this one fails too.
                    let _ = self.exec_text(exec, db, "ROLLBACK");
                }
                done
            }
            Kind::Postgres { pool, connect, .. } => {
                let client = self
                    .wait(connect.call0(pool).map_err(|e| self.fail(&e))?)
                    .await?;
                let begin = Statement {
                    sql: "BEGIN".into(),
                    params: vec![],
                };
                let commit = Statement {
                    sql: "COMMIT".into(),
                    params: vec![],
                };
                let mut done = self.pg(&client, &begin).await.map(drop);
                for s in statements {
                    if done.is_err() {
                        break;
                    }
                    done = self.pg(&client, s).await.map(drop);
                }
                if done.is_ok() {
                    done = self.pg(&client, &commit).await.map(drop);
                }
                let broken = matches!(&done, Err(f) if f.kind == FailureKind::Connection);
                if done.is_err() && !broken {
                    let rollback = Statement {
                        sql: "ROLLBACK".into(),
                        params: vec![],
                    };
                    let _ = self.pg(&client, &rollback).await;
                }
                // A client whose connection failed is destroyed, not handed out again.
                if let Some(release) = function_property(&client, "release") {
                    let _ = release.call1(&client, &JsValue::from_bool(broken));
                }
                done
            }
        }
    }
}

thread_local! {
    /// Openers for `{ path }` and `{ url }`, registered by the Node entry (which alone may import
    /// `node:sqlite`, `better-sqlite3` and `pg`).
    static OPENERS: RefCell<JsValue> = const { RefCell::new(JsValue::UNDEFINED) };
}

pub fn set_openers(openers: JsValue) {
    OPENERS.with(|o| *o.borrow_mut() = openers);
}

/// Calls the registered opener `name` (`"sqlite"` with a path, `"postgres"` with a URL).
pub async fn open_with(name: &str, arg: &str, needs: &str) -> Result<JsValue> {
    let opener = OPENERS.with(|o| function_property(&o.borrow(), name));
    let Some(opener) = opener else {
        return Err(Error::invalid_config(format!(
            "{needs} works in Node only (the package's Node entry opens it); here pass the \
             database itself as storage.db (a Durable Object's ctx.storage or a D1 binding)"
        )));
    };
    let out = match opener.call1(&JsValue::UNDEFINED, &JsValue::from_str(arg)) {
        Ok(p) => JsFuture::from(Promise::resolve(&p)).await,
        Err(e) => Err(e),
    };
    out.map_err(|e| {
        let m = prop(&e, "message")
            .as_string()
            .unwrap_or_else(|| "no details".to_owned());
        let code = prop(&e, "code").as_string().unwrap_or_default();
        if code == "INVALID_CONFIG" {
            Error::invalid_config(m)
        } else {
            crate::core::store::sql::storage_error(classify(needs, &e))
        }
    })
}
