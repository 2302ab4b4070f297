//! `redline.toml` for `redline env`, `redline exec` and `redline logs`:
//! read once ([`redline_config::Document`]), every table checked, then the
//! `[env]` and `[logs]` tables handed to their readers.

use redline_config::Document;
use std::path::Path;

/// Reads and parses `config` (`None`: no file, the defaults). An unknown
/// key in any table is an error naming the file, line and column.
pub fn load(config: Option<&Path>) -> Result<Option<Document>, String> {
    config.map(Document::load).transpose()
}
