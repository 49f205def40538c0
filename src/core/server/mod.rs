//! The HTTP API's pure logic (`agent-sessions/server`): route matching, request validation,
//! status mapping and the error body, SSE framing, the per-run resume buffer, and the server's
//! configuration in Hector's shape. No I/O: the handler in `server/handler.js` does the requests,
//! the runs and the timers, and asks this module every question that has a right answer.
//!
//! Compiled only into the server build (cargo feature `server`) and into native tests, so none of
//! it reaches the browser module.

pub mod body;
pub mod buffer;
pub mod config;
pub mod error;
pub mod route;
pub mod sse;

pub use error::ApiError;
