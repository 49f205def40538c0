//! The `#[wasm_bindgen]` surface. Only conversion lives here: JavaScript values to core types and
//! back, core errors to `AgentSessionsError`s. TypeScript declarations are hand-written in
//! `types.d.ts` and checked by compiling a consumer with `tsc` in the tests.

#[cfg(feature = "llm")]
pub mod agent;
mod append;
pub mod config;
pub mod convert;
pub mod errors;
pub mod events;
#[cfg(feature = "sql")]
pub mod host;
#[cfg(feature = "llm")]
pub mod llm;
pub mod run;
#[cfg(feature = "server")]
pub mod server;
pub mod session;
pub mod sql;
pub mod store;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");
