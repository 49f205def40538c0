//! Bindings in Node: `wasm-pack test --node`.
#![cfg(target_arch = "wasm32")]

mod common;

use wasm_bindgen_test::*;

macro_rules! suite {
    ($($name:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() { common::$name().await }
    )*};
}

suite!(
    store_lifecycle,
    bad_input_gives_typed_errors_and_loses_nothing,
    prototype_keys_are_refused_and_nothing_is_polluted,
    query_sessions_pages_newest_first,
    agkit_memory_add_and_list_by_session,
    events_fire_and_unsubscribe,
    runs_are_tracked,
    agent_manages_sessions_like_dexto,
    agents_share_a_store,
);

#[wasm_bindgen_test]
fn bad_agent_config_is_refused_synchronously() {
    common::bad_agent_config_is_refused_synchronously()
}
