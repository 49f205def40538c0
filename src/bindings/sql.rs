//! SQL storage configuration: `{ type: "sqlite", db | path }`, `{ type: "postgres", url | pool }`,
//! and the seeds' shapes that map onto them — Dexto's `{ database: { type, path | url }, cache }`
//! and Hector's `session_stores` entry `{ backend: "sql", sql: { driver, database } }`.

//!
//! Behind the `sql` cargo feature (on by default). A build without it (a browser-only module)
//! keeps `__setSqlOpeners` as a no-op and refuses SQL configurations with `INVALID_CONFIG`.

#[cfg(not(feature = "sql"))]
pub use off::*;
#[cfg(feature = "sql")]
pub use on::*;

/// What a storage configuration that names SQL (or a seed's shape) asks for; `bindings/config.rs`
/// turns it into its `StorageConfig` (kept there so the two modules do not import each other).
pub enum StorageConfig {
    Memory,
    Sql(SqlConfig),
}

#[cfg(not(feature = "sql"))]
mod off {
    use wasm_bindgen::prelude::*;

    use super::StorageConfig;
    use crate::bindings::convert::{get, is_absent, JsResult};
    use crate::core::error::Error;
    use crate::core::store::SqlStore;

    pub enum SqlConfig {}

    #[wasm_bindgen(js_name = __setSqlOpeners, skip_typescript)]
    pub fn set_sql_openers(_openers: JsValue) {}

    fn unsupported() -> JsValue {
        Error::invalid_config(
            "this build of agent-sessions has no SQL storage (the Node and workerd entries have it)",
        )
        .into()
    }

    pub fn typed(_storage: &JsValue, _kind: &str) -> JsResult<StorageConfig> {
        Err(unsupported())
    }

    pub fn seed_shape(storage: &JsValue) -> JsResult<Option<StorageConfig>> {
        if is_absent(&get(storage, "database")?) && is_absent(&get(storage, "backend")?) {
            return Ok(None);
        }
        Err(unsupported())
    }

    pub async fn open(config: SqlConfig) -> Result<SqlStore, Error> {
        match config {}
    }
}

#[cfg(feature = "sql")]
mod on {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use super::StorageConfig;
    use crate::bindings::convert::{get, is_absent, opt_string, JsResult};
    use crate::core::error::{Error, ErrorCode};
    use crate::core::store::sql::{self, SqlStore};
    use crate::platform::sql_host::{self, HostSql};

    pub enum SqlSource {
        SqliteDb(JsValue),
        SqlitePath(String),
        PgPool(JsValue),
        PgUrl(String),
    }

    pub struct SqlConfig {
        source: SqlSource,
        prefix: String,
    }

    /// Called by the Node entry with `{ sqlite(path), postgres(url) }`, which open a database.
    #[wasm_bindgen(js_name = __setSqlOpeners, skip_typescript)]
    pub fn set_sql_openers(openers: JsValue) {
        sql_host::set_openers(openers);
    }

    fn keys(obj: &JsValue) -> Vec<String> {
        if !obj.is_object() {
            return Vec::new();
        }
        js_sys::Object::keys(obj.unchecked_ref::<js_sys::Object>())
            .iter()
            .filter_map(|k| k.as_string())
            .collect()
    }

    fn only(obj: &JsValue, what: &str, allowed: &[&str]) -> JsResult<()> {
        if let Some(k) = keys(obj)
            .into_iter()
            .find(|k| !allowed.contains(&k.as_str()))
        {
            return Err(Error::invalid_config(format!(
                "{what} has no option {} (it takes {})",
                crate::core::json::quote(&k),
                allowed.join(", ")
            ))
            .into());
        }
        Ok(())
    }

    fn string(obj: &JsValue, key: &str, what: &str) -> JsResult<Option<String>> {
        let v = opt_string(
            &get(obj, key)?,
            &format!("{what}.{key}"),
            ErrorCode::InvalidConfig,
        )?;
        match v {
            Some(s) if s.is_empty() => {
                Err(Error::invalid_config(format!("{what}.{key} must not be empty")).into())
            }
            other => Ok(other),
        }
    }

    fn prefix(storage: &JsValue) -> JsResult<String> {
        let p = string(storage, "prefix", "storage")?.unwrap_or_else(|| sql::DEFAULT_PREFIX.into());
        sql::validate_prefix(&p)?;
        Ok(p)
    }

    /// `storage.type` `"sqlite"`, `"postgres"` or `"postgresql"`.
    pub fn typed(storage: &JsValue, kind: &str) -> JsResult<StorageConfig> {
        let what = "storage";
        let source = if kind == "sqlite" {
            only(storage, what, &["type", "db", "path", "prefix"])?;
            let db = get(storage, "db")?;
            match (is_absent(&db), string(storage, "path", what)?) {
            (false, None) => SqlSource::SqliteDb(db),
            (true, Some(path)) => SqlSource::SqlitePath(path),
            _ => {
                return Err(Error::invalid_config(
                    "storage type \"sqlite\" takes db (a Durable Object's ctx.storage, a D1 \
                     binding, a node:sqlite or better-sqlite3 database) or path (Node), one of them",
                )
                .into())
            }
        }
        } else {
            only(storage, what, &["type", "url", "pool", "prefix"])?;
            let pool = get(storage, "pool")?;
            match (is_absent(&pool), string(storage, "url", what)?) {
                (false, None) => SqlSource::PgPool(pool),
                (true, Some(url)) => SqlSource::PgUrl(url),
                _ => {
                    return Err(Error::invalid_config(
                        "storage type \"postgres\" takes url (a connection string) or pool (a \
                     pg.Pool), one of them",
                    )
                    .into())
                }
            }
        };
        // A db or pool of the wrong shape is refused now, not at the first call.
        match &source {
            SqlSource::SqliteDb(db) => drop(HostSql::sqlite(db.clone())?),
            SqlSource::PgPool(pool) => drop(HostSql::postgres(pool.clone())?),
            _ => {}
        }
        Ok(StorageConfig::Sql(SqlConfig {
            source,
            prefix: prefix(storage)?,
        }))
    }

    /// Dexto's `storage: { database, cache }` and Hector's `{ backend, sql }`, when `storage` has no
    /// `type`; `None` when it is neither.
    pub fn seed_shape(storage: &JsValue) -> JsResult<Option<StorageConfig>> {
        let database = get(storage, "database")?;
        if !is_absent(&database) {
            return dexto(storage, &database).map(Some);
        }
        let backend = get(storage, "backend")?;
        if !is_absent(&backend) {
            return hector(storage, &backend).map(Some);
        }
        Ok(None)
    }

    fn dexto(storage: &JsValue, database: &JsValue) -> JsResult<StorageConfig> {
        only(storage, "storage", &["database", "cache", "prefix"])?;
        let cache = get(storage, "cache")?;
        if !is_absent(&cache) {
            let kind = string(&cache, "type", "storage.cache")?;
            if kind.as_deref() != Some("in-memory") {
                return Err(Error::invalid_config(format!(
                    "storage.cache type {} is not supported: the only cache is \"in-memory\" \
                 (sessions are cached in memory; tune it with sessions: {{ maxSessions, \
                 sessionTTL }}); storage.database may be sqlite, postgres or in-memory",
                    crate::core::json::quote(&kind.unwrap_or_default())
                ))
                .into());
            }
        }
        let what = "storage.database";
        let kind = string(database, "type", what)?.unwrap_or_default();
        let source = match kind.as_str() {
            "in-memory" | "memory" => {
                only(database, what, &["type"])?;
                return Ok(StorageConfig::Memory);
            }
            "sqlite" => {
                only(database, what, &["type", "path", "database"])?;
                let path = string(database, "path", what)?.or(string(database, "database", what)?);
                SqlSource::SqlitePath(path.ok_or_else(|| {
                    Error::invalid_config("storage.database of type \"sqlite\" needs a path")
                })?)
            }
            "postgres" | "postgresql" => {
                only(database, what, &["type", "url", "connectionString"])?;
                let url =
                    string(database, "url", what)?.or(string(database, "connectionString", what)?);
                SqlSource::PgUrl(url.ok_or_else(|| {
                    Error::invalid_config("storage.database of type \"postgres\" needs a url")
                })?)
            }
            other => {
                return Err(Error::invalid_config(format!(
                    "storage.database type {} is not supported (expected sqlite, postgres or \
                 in-memory)",
                    crate::core::json::quote(other)
                ))
                .into())
            }
        };
        Ok(StorageConfig::Sql(SqlConfig {
            source,
            prefix: prefix(storage)?,
        }))
    }

    fn hector(storage: &JsValue, backend: &JsValue) -> JsResult<StorageConfig> {
        only(storage, "storage", &["backend", "sql", "prefix"])?;
        match backend.as_string().as_deref() {
            Some("memory") | Some("inmemory") => return Ok(StorageConfig::Memory),
            Some("sql") => {}
            _ => return Err(Error::invalid_config(
                "storage.backend must be \"sql\" (with sql: { driver, database }) or \"memory\"",
            )
            .into()),
        }
        let sql_cfg = get(storage, "sql")?;
        let what = "storage.sql";
        only(&sql_cfg, what, &["driver", "database"])?;
        let driver = string(&sql_cfg, "driver", what)?.unwrap_or_default();
        let database = string(&sql_cfg, "database", what)?
            .ok_or_else(|| Error::invalid_config("storage.sql.database is required"))?;
        let source = match driver.as_str() {
            "sqlite" | "sqlite3" => SqlSource::SqlitePath(database),
            "postgres" | "postgresql" => SqlSource::PgUrl(database),
            other => {
                return Err(Error::invalid_config(format!(
                    "storage.sql.driver {} is not supported (expected sqlite or postgres)",
                    crate::core::json::quote(other)
                ))
                .into())
            }
        };
        Ok(StorageConfig::Sql(SqlConfig {
            source,
            prefix: prefix(storage)?,
        }))
    }

    /// Opens (and creates or migrates) the tables.
    pub async fn open(config: SqlConfig) -> Result<SqlStore, Error> {
        let host = match config.source {
            SqlSource::SqliteDb(db) => HostSql::sqlite(db)?,
            SqlSource::PgPool(pool) => HostSql::postgres(pool)?,
            SqlSource::SqlitePath(path) => HostSql::sqlite(
                sql_host::open_with("sqlite", &path, "storage type \"sqlite\" with a path").await?,
            )?,
            SqlSource::PgUrl(url) => HostSql::postgres(
                sql_host::open_with("postgres", &url, "storage type \"postgres\" with a url")
                    .await?,
            )?,
        };
        SqlStore::open(Box::new(host), &config.prefix).await
    }
}
