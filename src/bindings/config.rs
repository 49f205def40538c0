//! Parsing of the configuration objects JavaScript passes in. Plain-data parts go through serde
//! (unknown keys are errors, so a typo is reported rather than ignored); parts that hold host
//! objects (a KV binding, a store, a function) are read with `Reflect` and never serialised.

use js_sys::Reflect;
use serde::Deserialize;
use wasm_bindgen::JsValue;

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
