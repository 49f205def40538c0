//! Bindings and storage backends in headless browsers: `wasm-pack test --headless --chrome
//! --firefox --test web`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;
#[macro_use]
mod store_contract;
mod store_js;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

bindings_suite!();

store_contract!(memory_store, store_js::memory, wasm);
store_contract!(indexed_db_store, store_js::indexed_db, wasm);
store_contract!(local_storage_store, store_js::local_storage, wasm);
store_contract!(kv_map_store, store_js::kv_map, wasm);
store_contract!(kv_pages_store, store_js::kv_pages, wasm);
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
    browser_restart_restores_everything,
    the_browser_default_is_indexed_db,
    bad_storage_configs_are_refused,
    blocked_or_missing_storage_is_unavailable_or_falls_back,
    local_storage_quota_is_reported_and_recovers,
    damaged_records_are_reported_per_session,
    a_newer_schema_in_another_tab_closes_this_connection,
    an_upgrade_blocked_by_another_tab_is_unavailable,
    an_old_schema_is_upgraded_in_place,
);
