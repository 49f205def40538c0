//! Parsing of the configuration objects JavaScript passes in. Plain-data parts go through serde
//! (unknown keys are errors, so a typo is reported rather than ignored); parts that hold host
//! objects (a KV binding, a store, a function) are read with `Reflect` and never serialised.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::platform::crypto::{KeySource, DEFAULT_ITERATIONS};

use super::convert::{field, from_js, keys, opt_string, JsResult};
use crate::core::error::{Error, ErrorCode};
use crate::core::manager::{ManagerConfig, RetentionOptions, SessionsOptions};
use crate::core::store::kv;
use crate::platform::host_kv::HostKv;
use crate::platform::indexed_db;

pub use super::convert::{get, is_absent};

/// `sessions` and `retention` of a store or agent configuration.
pub fn manager_config(config: &JsValue) -> JsResult<ManagerConfig> {
    let sessions: Option<SessionsOptions> = from_js(
        &get(config, "sessions")?,
        "sessions",
        ErrorCode::InvalidConfig,
    )?;
    let retention: Option<RetentionOptions> = from_js(
        &get(config, "retention")?,
        "retention",
        ErrorCode::InvalidConfig,
    )?;
    Ok(ManagerConfig::parse(sessions, retention)?)
}

fn from_sql(c: super::sql::StorageConfig) -> StorageConfig {
    match c {
        super::sql::StorageConfig::Memory => StorageConfig::Memory,
        super::sql::StorageConfig::Sql(sql) => StorageConfig::Sql(sql),
    }
}

/// Where a store keeps its data.
pub enum StorageConfig {
    Memory,
    IndexedDb {
        name: String,
        fallback: Option<Fallback>,
    },
    LocalStorage {
        prefix: String,
        fallback: Option<Fallback>,
    },
    Kv {
        kv: HostKv,
        prefix: String,
    },
    /// SQLite (a Durable Object, D1, Node) or PostgreSQL: `bindings/sql.rs`.
    Sql(super::sql::SqlConfig),
}

/// What to use when the configured storage is unavailable here (`fallback: "memory"`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fallback {
    Memory,
}

/// `storage.*` keys each type accepts; anything else is a typo, reported.
fn check_keys(storage: &JsValue, kind: &str, allowed: &[&str]) -> JsResult<()> {
    for k in keys(storage, "storage", ErrorCode::InvalidConfig)? {
        if k != "type" && !allowed.contains(&k.as_str()) {
            let expected = if allowed.is_empty() {
                "no other options".to_owned()
            } else {
                allowed.join(", ")
            };
            return Err(Error::invalid_config(format!(
                "storage type {} has no option {} (it takes {expected})",
                crate::core::json::quote(kind),
                crate::core::json::quote(&k)
            ))
            .into());
        }
    }
    Ok(())
}

fn string_option(storage: &JsValue, key: &str, default: &str) -> JsResult<String> {
    let what = format!("storage.{key}");
    let value = opt_string(&get(storage, key)?, &what, ErrorCode::InvalidConfig)?;
    match value {
        Some(v) if v.is_empty() && key == "name" => {
            Err(Error::invalid_config("storage.name must not be empty").into())
        }
        Some(v) => Ok(v),
        None => Ok(default.to_owned()),
    }
}

fn fallback_option(storage: &JsValue) -> JsResult<Option<Fallback>> {
    let value = opt_string(
        &get(storage, "fallback")?,
        "storage.fallback",
        ErrorCode::InvalidConfig,
    )?;
    match value.as_deref() {
        None => Ok(None),
        Some("memory") => Ok(Some(Fallback::Memory)),
        Some(other) => Err(Error::invalid_config(format!(
            "storage.fallback must be \"memory\", not {}",
            crate::core::json::quote(other)
        ))
        .into()),
    }
}

/// Whether this runtime has IndexedDB (browsers and their workers): the default storage there.
fn has_indexed_db() -> bool {
    Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .map(|v| !is_absent(&v))
        .unwrap_or(false)
}

/// Reads `config.storage`. Absent: IndexedDB (database `"agent-sessions"`) where the runtime has
/// it, falling back to memory if it cannot be opened; memory elsewhere.
pub fn storage_config(config: &JsValue) -> JsResult<StorageConfig> {
    let storage = get(config, "storage")?;
    if is_absent(&storage) {
        return Ok(if has_indexed_db() {
            StorageConfig::IndexedDb {
                name: indexed_db::DEFAULT_NAME.to_owned(),
                fallback: Some(Fallback::Memory),
            }
        } else {
            StorageConfig::Memory
        });
    }
    if !storage.is_object() {
        return Err(Error::invalid_config(
            "storage must be an object such as { type: \"memory\" }",
        )
        .into());
    }
    let kind = opt_string(
        &get(&storage, "type")?,
        "storage.type",
        ErrorCode::InvalidConfig,
    )?;
    if kind.is_none() {
        if let Some(seed) = super::sql::seed_shape(&storage)?.map(from_sql) {
            return Ok(seed);
        }
    }
    let kind = kind.as_deref().unwrap_or("memory");
    match kind {
        "memory" => {
            check_keys(&storage, kind, &[])?;
            Ok(StorageConfig::Memory)
        }
        "indexeddb" => {
            check_keys(&storage, kind, &["name", "fallback"])?;
            Ok(StorageConfig::IndexedDb {
                name: string_option(&storage, "name", indexed_db::DEFAULT_NAME)?,
                fallback: fallback_option(&storage)?,
            })
        }
        "localstorage" => {
            check_keys(&storage, kind, &["prefix", "fallback"])?;
            Ok(StorageConfig::LocalStorage {
                prefix: string_option(&storage, "prefix", kv::DEFAULT_PREFIX)?,
                fallback: fallback_option(&storage)?,
            })
        }
        "kv" => {
            check_keys(&storage, kind, &["kv", "prefix"])?;
            let target = get(&storage, "kv")?;
            if !target.is_object() {
                return Err(Error::invalid_config(
                    "storage.kv is required: a Durable Object's state.storage, a Workers KV \
                     namespace, or an object with async get/put/delete/list",
                )
                .into());
            }
            // Read every method the backend may use once here, so that a getter or Proxy trap
            // that throws is reported with the thrown value as `cause` (the platform's own
            // reads only see "absent").
            for method in ["get", "put", "delete", "list", "transaction", "deleteAll"] {
                field(&target, method, "storage.kv", ErrorCode::InvalidConfig)?;
            }
            Ok(StorageConfig::Kv {
                kv: HostKv::new(target)?,
                prefix: string_option(&storage, "prefix", kv::DEFAULT_PREFIX)?,
            })
        }
        "sqlite" | "postgres" | "postgresql" => super::sql::typed(&storage, kind).map(from_sql),
        other => Err(Error::invalid_config(format!(
            "unknown storage type {} (expected memory, indexeddb, localstorage, kv, \
             sqlite or postgres)",
            crate::core::json::quote(other)
        ))
        .into()),
    }
}

/// `encryption: { passphrase, iterations? } | { key: CryptoKey }`, if present.
pub fn encryption_config(config: &JsValue) -> JsResult<Option<KeySource>> {
    let enc = get(config, "encryption")?;
    if is_absent(&enc) {
        return Ok(None);
    }
    if !enc.is_object() {
        return Err(Error::invalid_config("encryption must be an object").into());
    }
    for k in keys(&enc, "encryption", ErrorCode::InvalidConfig)? {
        if !matches!(k.as_str(), "passphrase" | "key" | "iterations") {
            return Err(Error::invalid_config(format!(
                "unknown encryption option {} (expected passphrase, iterations or key)",
                crate::core::json::quote(&k)
            ))
            .into());
        }
    }
    let passphrase = opt_string(
        &get(&enc, "passphrase")?,
        "encryption.passphrase",
        ErrorCode::InvalidConfig,
    )?;
    let key = get(&enc, "key")?;
    let iterations = get(&enc, "iterations")?;
    match (passphrase, is_absent(&key)) {
        (Some(_), false) => {
            Err(Error::invalid_config("encryption takes a passphrase or a key, not both").into())
        }
        (Some(p), true) => {
            if p.is_empty() {
                return Err(Error::invalid_config("encryption.passphrase is empty").into());
            }
            let iterations = if is_absent(&iterations) {
                DEFAULT_ITERATIONS
            } else {
                match iterations.as_f64() {
                    Some(n) if n.fract() == 0.0 && (1000.0..=10_000_000.0).contains(&n) => n as u32,
                    _ => {
                        return Err(Error::invalid_config(
                            "encryption.iterations must be an integer from 1000 to 10000000",
                        )
                        .into())
                    }
                }
            };
            Ok(Some(KeySource::Passphrase {
                passphrase: p,
                iterations,
            }))
        }
        (None, false) => Ok(Some(KeySource::Key(key))),
        (None, true) => Err(Error::invalid_config("encryption needs a passphrase or a key").into()),
    }
}
