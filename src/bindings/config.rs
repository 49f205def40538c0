//! Parsing of the configuration objects JavaScript passes in. Plain-data parts go through serde
//! (unknown keys are errors, so a typo is reported rather than ignored); parts that hold host
//! objects (a KV binding, a store, a function) are read with `Reflect` and never serialised.

use js_sys::Reflect;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::platform::crypto::{KeySource, DEFAULT_ITERATIONS};

use super::convert::{from_js, opt_string, JsResult};
use crate::core::error::{Error, ErrorCode};
use crate::core::manager::{CacheConfig, ManagerConfig, RetentionConfig};

pub fn get(obj: &JsValue, key: &str) -> JsResult<JsValue> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !obj.is_object() {
        return Err(Error::invalid_config("configuration must be an object").into());
    }
    Reflect::get(obj, &JsValue::from_str(key))
}

pub fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionsConfigJs {
    max_sessions: Option<f64>,
    #[serde(rename = "sessionTTL", alias = "sessionTtl")]
    session_ttl: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetentionConfigJs {
    expire_after: Option<f64>,
    max_age: Option<f64>,
}

fn positive(value: Option<f64>, what: &str) -> JsResult<Option<f64>> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => {
            Err(Error::invalid_config(format!("{what} must be a positive number")).into())
        }
        other => Ok(other),
    }
}

/// `sessions` and `retention` of a store or agent configuration.
pub fn manager_config(config: &JsValue) -> JsResult<ManagerConfig> {
    let sessions: Option<SessionsConfigJs> = from_js(
        &get(config, "sessions")?,
        "sessions",
        ErrorCode::InvalidConfig,
    )?;
    let retention: Option<RetentionConfigJs> = from_js(
        &get(config, "retention")?,
        "retention",
        ErrorCode::InvalidConfig,
    )?;
    let sessions = sessions.unwrap_or_default();
    let retention = retention.unwrap_or_default();
    let mut cache = CacheConfig::default();
    if let Some(max) = positive(sessions.max_sessions, "sessions.maxSessions")? {
        if max.fract() != 0.0 {
            return Err(Error::invalid_config("sessions.maxSessions must be an integer").into());
        }
        cache.max_sessions = max.min(usize::MAX as f64) as usize;
    }
    if let Some(ttl) = positive(sessions.session_ttl, "sessions.sessionTTL")? {
        cache.session_ttl_ms = ttl;
    }
    Ok(ManagerConfig {
        cache,
        retention: RetentionConfig {
            expire_after_ms: positive(retention.expire_after, "retention.expireAfter")?,
            max_age_ms: positive(retention.max_age, "retention.maxAge")?,
        },
    })
}

/// Where a store keeps its data.
pub enum StorageConfig {
    Memory,
}

pub fn storage_config(config: &JsValue) -> JsResult<StorageConfig> {
    let storage = get(config, "storage")?;
    if is_absent(&storage) {
        return Ok(StorageConfig::Memory);
    }
    let kind = opt_string(
        &get(&storage, "type")?,
        "storage.type",
        ErrorCode::InvalidConfig,
    )?;
    match kind.as_deref() {
        None | Some("memory") => Ok(StorageConfig::Memory),
        Some(other @ ("indexeddb" | "localstorage" | "kv")) => Err(Error::new(
            ErrorCode::StorageUnavailable,
            format!("storage type {other:?} is not available in this build yet; use \"memory\""),
        )
        .into()),
        Some(other) => Err(Error::invalid_config(format!(
            "unknown storage type {other:?} (expected memory, indexeddb, localstorage or kv)"
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
    let obj: &js_sys::Object = enc.unchecked_ref();
    for key in js_sys::Object::keys(obj).iter() {
        let k = key.as_string().unwrap_or_default();
        if !matches!(k.as_str(), "passphrase" | "key" | "iterations") {
            return Err(Error::invalid_config(format!(
                "unknown encryption option {k:?} (expected passphrase, iterations or key)"
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
