//! Bindings and the host-KV storage backend in Node: `wasm-pack test --node`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;
#[macro_use]
mod store_contract;
mod store_js;

use wasm_bindgen_test::*;

bindings_suite!();

store_contract!(memory_store, store_js::memory, wasm);
store_contract!(kv_map_store, store_js::kv_map, wasm);
store_contract!(kv_pages_store, store_js::kv_pages, wasm);
store_contract!(kv_array_store, store_js::kv_array, wasm);
store_contract!(kv_durable_store, store_js::kv_durable, wasm);

macro_rules! storage_tests {
    ($($name:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            store_js::$name().await
        }
    )*};
}

storage_tests!(
    kv_object_restart_restores_everything,
    bad_storage_configs_are_refused,
    missing_browser_storage_is_unavailable_or_falls_back,
);
