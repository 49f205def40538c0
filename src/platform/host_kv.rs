//! A host's key-value store as a [`KvBackend`], taken as it is (`{ type: "kv", kv, prefix }`):
//!
//! - a Durable Object's `state.storage`: `get(key)` → value | undefined, `get(keys[])` → Map,
//!   `put(key, value)` and `put(entries)` (atomic, ≤ 128 keys), `delete(key | keys[])`,
//!   `list({ prefix })` → Map;
//! - a Workers KV namespace: `get(key)` → string | null, `put(key, string)`, `delete(key)`,
//!   `list({ prefix, cursor })` → `{ keys: [{ name }], list_complete, cursor }`, paginated;
//! - any object with async `get/put/delete/list({ prefix })`, whose `list` resolves to a Map, an
//!   array of keys (or `[key, value]` pairs), or the Workers KV page shape.
//!
//! Told apart by shape, never by name: `list` results by what they are, and batched calls
//! (`get`/`put`/`delete` of many keys in one call) only where the object also has the Durable
//! Object storage methods `transaction` and `deleteAll`.

use async_trait::async_trait;
use futures_util::future::join_all;
use js_sys::{Array, Function, Map, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::storage_error::storage_error;
use super::wake::function_property;
use crate::core::error::{Error, Result};
use crate::core::io::KvBackend;

const WHAT: &str = "the key-value store (storage.kv)";
/// Durable Object storage takes at most 128 keys per batched call.
const BATCH: usize = 128;
/// Bounds a list that keeps handing out cursors.
const MAX_PAGES: usize = 100_000;

pub struct HostKv {
    target: JsValue,
    get: Function,
    put: Function,
    delete: Function,
    list: Function,
    /// Durable Object storage: many keys per get/put/delete call, `put(entries)` atomic.
    batches: bool,
}

impl HostKv {
    /// `INVALID_CONFIG` unless `target` has the four methods.
    pub fn new(target: JsValue) -> Result<Self> {
        let method = |name: &str| {
            function_property(&target, name).ok_or_else(|| {
                Error::invalid_config(format!(
                    "storage.kv must be an object with async get, put, delete and list methods \
                     (a Durable Object's state.storage, a Workers KV namespace, or your own); \
                     it has no {name}()"
                ))
            })
        };
        let (get, put, delete, list) = (
            method("get")?,
            method("put")?,
            method("delete")?,
            method("list")?,
        );
        let batches = function_property(&target, "transaction").is_some()
            && function_property(&target, "deleteAll").is_some();
        Ok(HostKv {
            target,
            get,
            put,
            delete,
            list,
            batches,
        })
    }

    async fn call(&self, f: &Function, args: &[&JsValue]) -> Result<JsValue> {
        let args: Array = args.iter().copied().collect();
        let out = f
            .apply(&self.target, &args)
            .map_err(|e| storage_error(WHAT, &e))?;
        JsFuture::from(Promise::resolve(&out))
            .await
            .map_err(|e| storage_error(WHAT, &e))
    }

    async fn list_page(&self, prefix: &str, cursor: Option<&str>) -> Result<JsValue> {
        let options = Object::new();
        set(&options, "prefix", &JsValue::from_str(prefix));
        if let Some(c) = cursor {
            set(&options, "cursor", &JsValue::from_str(c));
        }
        self.call(&self.list, &[&options.into()]).await
    }
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot throw.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A stored value as text: ours are strings; anything else is shown as JSON, so that reading it
/// reports a damaged record rather than a crash.
fn text_of(value: JsValue) -> Option<String> {
    if value.is_undefined() || value.is_null() {
        return None;
    }
    Some(value.as_string().unwrap_or_else(|| {
        js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    }))
}

/// A key out of a `list` result entry: a string, a `[key, value]` pair, or `{ name }`.
fn key_of(entry: &JsValue) -> Option<String> {
    if let Some(s) = entry.as_string() {
        return Some(s);
    }
    if Array::is_array(entry) {
        return Array::from(entry).get(0).as_string();
    }
    Reflect::get(entry, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
}

fn bad_list() -> Error {
    Error::new(
        crate::core::error::ErrorCode::Storage,
        "storage.kv.list({ prefix }) must resolve to a Map, an array of keys, or \
         { keys: [{ name }], list_complete, cursor }",
    )
}

#[async_trait(?Send)]
impl KvBackend for HostKv {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(text_of(
            self.call(&self.get, &[&JsValue::from_str(key)]).await?,
        ))
    }

    async fn put(&self, key: &str, value: &str) -> Result<()> {
        self.call(
            &self.put,
            &[&JsValue::from_str(key), &JsValue::from_str(value)],
        )
        .await
        .map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.call(&self.delete, &[&JsValue::from_str(key)])
            .await
            .map(drop)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self.list_page(prefix, cursor.as_deref()).await?;
            if let Some(map) = page.dyn_ref::<Map>() {
                map.for_each(&mut |_, k| keys.extend(k.as_string()));
                return Ok(keys);
            }
            if Array::is_array(&page) {
                keys.extend(Array::from(&page).iter().filter_map(|e| key_of(&e)));
                return Ok(keys);
            }
            let entries =
                Reflect::get(&page, &JsValue::from_str("keys")).map_err(|_| bad_list())?;
            if !Array::is_array(&entries) {
                return Err(bad_list());
            }
            keys.extend(Array::from(&entries).iter().filter_map(|e| key_of(&e)));
            let complete = Reflect::get(&page, &JsValue::from_str("list_complete"))
                .map(|c| c.as_bool() != Some(false))
                .unwrap_or(true);
            let next = Reflect::get(&page, &JsValue::from_str("cursor"))
                .ok()
                .and_then(|c| c.as_string())
                .filter(|c| !c.is_empty());
            match next {
                Some(next) if !complete && cursor.as_deref() != Some(next.as_str()) => {
                    cursor = Some(next)
                }
                _ => return Ok(keys),
            }
        }
        Ok(keys)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        if !self.batches {
            return join_all(keys.iter().map(|k| self.get(k)))
                .await
                .into_iter()
                .collect();
        }
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let names: Array = chunk.iter().map(|k| JsValue::from_str(k)).collect();
            let found = self.call(&self.get, &[&names.into()]).await?;
            let map = found.dyn_into::<Map>().map_err(|_| bad_list())?;
            out.extend(
                chunk
                    .iter()
                    .map(|k| text_of(map.get(&JsValue::from_str(k)))),
            );
        }
        Ok(out)
    }

    async fn put_many(&self, entries: &[(String, String)]) -> Result<()> {
        if !self.batches || entries.len() > BATCH {
            for (k, v) in entries {
                self.put(k, v).await?;
            }
            return Ok(());
        }
        // Object.fromEntries defines own properties: no key can reach a prototype.
        let pairs: Array = entries
            .iter()
            .map(|(k, v)| -> JsValue {
                Array::of2(&JsValue::from_str(k), &JsValue::from_str(v)).into()
            })
            .collect();
        let object = Object::from_entries(&pairs).map_err(|e| storage_error(WHAT, &e))?;
        self.call(&self.put, &[&object.into()]).await.map(drop)
    }

    async fn delete_many(&self, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(BATCH) {
            if self.batches {
                let names: Array = chunk.iter().map(|k| JsValue::from_str(k)).collect();
                self.call(&self.delete, &[&names.into()]).await?;
            } else {
                for r in join_all(chunk.iter().map(|k| self.delete(k))).await {
                    r?;
                }
            }
        }
        Ok(())
    }
}
