//! Logging: logs must be structured and keep errors typed.

pub mod error_as_string;
pub mod std_log;
pub use error_as_string::ErrorAsString;
pub use std_log::StdLog;

/// The family's rules.
pub static FAMILY: crate::Family = crate::Family {
    name: "logging",
    go: &[&StdLog, &ErrorAsString],
    go_mod: &[],
    manifest: &[],
    document: &[],
};
