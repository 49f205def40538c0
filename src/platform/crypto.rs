//! AES-GCM through WebCrypto (`crypto.subtle`, in browsers, workers, Node and workerd): the
//! cipher behind encryption at rest, with keys derived from a passphrase by PBKDF2-SHA-256.

use async_trait::async_trait;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::wake::function_property;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::io::Cipher;

/// AES-GCM's recommended nonce length.
const IV_LEN: usize = 12;
/// PBKDF2 rounds when the caller does not say (OWASP's figure for PBKDF2-HMAC-SHA256).
pub const DEFAULT_ITERATIONS: u32 = 600_000;

fn unavailable(detail: &str) -> Error {
    Error::new(
        ErrorCode::StorageUnavailable,
        format!("encryption needs WebCrypto (crypto.subtle): {detail}"),
    )
}

fn subtle() -> Result<JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .filter(|c| c.is_object())
        .ok_or_else(|| unavailable("no crypto global"))?;
    Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .ok()
        .filter(|s| s.is_object())
        .ok_or_else(|| unavailable("no crypto.subtle (not a secure context?)"))
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Calls `crypto.subtle[method](...args)` and awaits it.
async fn call(method: &str, args: &[JsValue]) -> std::result::Result<JsValue, JsValue> {
    let subtle = subtle()?;
    let f = function_property(&subtle, method)
        .ok_or_else(|| JsValue::from(unavailable(&format!("no crypto.subtle.{method}"))))?;
    let p = f.apply(&subtle, &args.iter().collect::<Array>())?;
    JsFuture::from(p.dyn_into::<Promise>()?).await
}

/// Our error for a rejected WebCrypto call, with the host's own message.
fn js_error(code: ErrorCode, what: &str, thrown: &JsValue) -> Error {
    let detail = Reflect::get(thrown, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| thrown.as_string())
        .unwrap_or_default();
    Error::new(code, format!("{what}: {detail}"))
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

pub struct WebCryptoCipher {
    key: JsValue,
}

impl WebCryptoCipher {
    /// Uses a caller's `CryptoKey` (AES-GCM, usable to encrypt and decrypt).
    pub fn from_key(key: JsValue) -> Result<WebCryptoCipher> {
        let algorithm = Reflect::get(&key, &JsValue::from_str("algorithm"))
            .ok()
            .and_then(|a| Reflect::get(&a, &JsValue::from_str("name")).ok())
            .and_then(|n| n.as_string());
        if algorithm.as_deref() != Some("AES-GCM") {
            return Err(Error::invalid_config(
                "encryption.key must be an AES-GCM CryptoKey",
            ));
        }
        Ok(WebCryptoCipher { key })
    }

    /// Derives an AES-256-GCM key from a passphrase and salt (PBKDF2-SHA-256).
    pub async fn from_passphrase(
        passphrase: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<WebCryptoCipher> {
        let derive = async {
            let usages: JsValue = Array::of1(&"deriveKey".into()).into();
            let base = call(
                "importKey",
                &[
                    "raw".into(),
                    bytes(passphrase.as_bytes()),
                    "PBKDF2".into(),
                    false.into(),
                    usages,
                ],
            )
            .await?;
            let params = obj(&[
                ("name", "PBKDF2".into()),
                ("salt", bytes(salt)),
                ("iterations", iterations.into()),
                ("hash", "SHA-256".into()),
            ]);
            let aes = obj(&[("name", "AES-GCM".into()), ("length", 256.into())]);
            let usages: JsValue = Array::of2(&"encrypt".into(), &"decrypt".into()).into();
            call("deriveKey", &[params, base, aes, false.into(), usages]).await
        };
        let key = derive.await.map_err(|e| {
            js_error(
                ErrorCode::StorageUnavailable,
                "could not derive the key",
                &e,
            )
        })?;
        Ok(WebCryptoCipher { key })
    }
}

#[async_trait(?Send)]
impl Cipher for WebCryptoCipher {
    async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let mut iv = [0u8; IV_LEN];
        getrandom::fill(&mut iv).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
        let params = obj(&[("name", "AES-GCM".into()), ("iv", bytes(&iv))]);
        let sealed = call("encrypt", &[params, self.key.clone(), bytes(plain)])
            .await
            .map_err(|e| js_error(ErrorCode::Storage, "could not encrypt", &e))?;
        let mut out = iv.to_vec();
        out.extend(Uint8Array::new(&sealed).to_vec());
        Ok(out)
    }

    async fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < IV_LEN {
            return Err(Error::internal("sealed data is too short"));
        }
        let (iv, body) = sealed.split_at(IV_LEN);
        let params = obj(&[("name", "AES-GCM".into()), ("iv", bytes(iv))]);
        let plain = call("decrypt", &[params, self.key.clone(), bytes(body)])
            .await
            .map_err(|e| js_error(ErrorCode::Storage, "could not decrypt", &e))?;
        Ok(Uint8Array::new(&plain).to_vec())
    }
}

/// Where the key of an encrypted store comes from.
pub enum KeySource {
    Passphrase {
        passphrase: String,
        iterations: u32,
    },
    /// A caller's AES-GCM `CryptoKey`.
    Key(JsValue),
}

/// Wraps a store so everything written through it is sealed with the configured key; `WRONG_KEY`
/// when the key does not open what the store already holds.
pub async fn sealed_store(
    inner: std::rc::Rc<dyn crate::core::store::Store>,
    source: KeySource,
) -> Result<crate::core::sealed::SealedStore> {
    let cipher = match source {
        KeySource::Key(key) => WebCryptoCipher::from_key(key)?,
        KeySource::Passphrase {
            passphrase,
            iterations,
        } => {
            let mut fresh = [0u8; 16];
            getrandom::fill(&mut fresh)
                .map_err(|e| Error::internal(format!("no randomness: {e}")))?;
            let salt = crate::core::sealed::salt(&*inner, &fresh).await?;
            WebCryptoCipher::from_passphrase(&passphrase, &salt, iterations).await?
        }
    };
    crate::core::sealed::SealedStore::open(inner, std::rc::Rc::new(cipher)).await
}
