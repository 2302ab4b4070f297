//! Reading one table of `redline.toml` (`[env]`, `[logs]`, `[manifests]`)
//! with errors that name the file, line and column: the one reader,
//! [`redline_config`], under the names this crate's callers use. Each
//! caller's type lists only the tables it owns and rejects unknown keys
//! inside them itself (`deny_unknown_fields`).

pub use redline_config::{line_of, load, parse};
