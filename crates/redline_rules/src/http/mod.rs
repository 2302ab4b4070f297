//! HTTP servers: every server needs timeouts.

pub mod serve_without_timeouts;
pub mod server_timeouts;
pub use serve_without_timeouts::HttpServeWithoutTimeouts;
pub use server_timeouts::{HttpServerTimeouts, HttpServerWriteIdleTimeouts};
