//! localStorage as a [`KvBackend`]: one key per record under a prefix (the layout of
//! `core::store::kv`). Synchronous underneath, so every call completes at once; `setItem` past the
//! origin's ~5 MB throws `QuotaExceededError`, reported as `STORAGE_QUOTA` with nothing else
//! written.

use async_trait::async_trait;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use super::storage_error::{storage_error, unavailable};
use crate::core::error::Result;
use crate::core::io::KvBackend;

const WHAT: &str = "localStorage";

pub struct LocalStorageKv {
    storage: Storage,
}

impl LocalStorageKv {
    /// The global `localStorage`; `STORAGE_UNAVAILABLE` where there is none or reading it throws
    /// (sandboxed frames, storage blocked by the user, workers, Node).
    pub fn open() -> Result<Self> {
        let value =
            Reflect::get(&js_sys::global(), &JsValue::from_str("localStorage")).map_err(|e| {
                unavailable(format!(
                    "localStorage is blocked here ({}); use another storage type or a fallback",
                    super::storage_error::error_name(&e)
                ))
            })?;
        let storage = value.dyn_into::<Storage>().map_err(|_| {
            unavailable("localStorage does not exist in this runtime (it is a browser window API)")
        })?;
        // Touch it once: some browsers hand out an object that throws on first use.
        storage.length().map_err(|e| storage_error(WHAT, &e))?;
        Ok(LocalStorageKv { storage })
    }
}

#[async_trait(?Send)]
impl KvBackend for LocalStorageKv {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.storage
            .get_item(key)
            .map_err(|e| storage_error(WHAT, &e))
    }

    async fn put(&self, key: &str, value: &str) -> Result<()> {
        self.storage
            .set_item(key, value)
            .map_err(|e| storage_error(WHAT, &e))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.storage
            .remove_item(key)
            .map_err(|e| storage_error(WHAT, &e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let len = self.storage.length().map_err(|e| storage_error(WHAT, &e))?;
        let mut keys = Vec::new();
        for i in 0..len {
            if let Some(k) = self.storage.key(i).map_err(|e| storage_error(WHAT, &e))? {
                if k.starts_with(prefix) {
                    keys.push(k);
                }
            }
        }
        Ok(keys)
    }
}
