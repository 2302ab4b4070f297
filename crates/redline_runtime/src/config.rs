//! Reading one table of `redline.toml` (`[env]`, `[logs]`, `[manifests]`)
//! with errors that name the file and line. Other tables belong to other
//! parts of redline and are ignored here.

use redline_diagnostics::LineIndex;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Reads `path` and deserializes it as `T`. `T` lists only the tables this
/// caller owns; unknown keys *inside* them must be rejected by `T` itself
/// (`deny_unknown_fields`).
pub fn load<T: DeserializeOwned + Default>(path: Option<&Path>) -> Result<T, String> {
    let Some(path) = path else {
        return Ok(T::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the configuration: {e}", path.display()))?;
    parse(&path.display().to_string(), &text)
}

/// Deserializes `text` (the contents of `display_path`) as `T`.
pub fn parse<T: DeserializeOwned>(display_path: &str, text: &str) -> Result<T, String> {
    toml::from_str::<T>(text).map_err(|e| describe(display_path, text, &e))
}

fn describe(display_path: &str, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let (line, column) = LineIndex::new(text.as_bytes()).position(span.start);
            format!("{display_path}:{line}:{column}: {message}")
        }
        None => format!("{display_path}: {message}"),
    }
}

/// 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    LineIndex::new(text.as_bytes()).position(offset).0
}
