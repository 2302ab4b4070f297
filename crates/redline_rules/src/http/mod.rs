//! HTTP servers: every server needs timeouts.

pub mod serve_without_timeouts;
pub mod server_timeouts;
pub mod server_write_idle_timeouts;
mod servers;
pub use serve_without_timeouts::HttpServeWithoutTimeouts;
pub use server_timeouts::HttpServerTimeouts;
pub use server_write_idle_timeouts::HttpServerWriteIdleTimeouts;

use crate::Family;

/// The family's rules.
pub static FAMILY: Family = Family {
    name: "http",
    go: &[
        &HttpServeWithoutTimeouts,
        &HttpServerTimeouts,
        &HttpServerWriteIdleTimeouts,
    ],
    go_mod: &[],
    manifest: &[],
    document: &[],
};
