//! The `[slo]` table of `redline.toml`.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// Window of Sloth specs, which do not state one (default `30d`).
    pub window: Option<String>,
    /// Default `--prometheus` URL.
    pub prometheus: Option<String>,
    /// Default `--timeout`, in seconds.
    pub timeout_secs: Option<u64>,
    /// Default `--retries`.
    pub retries: Option<u32>,
    /// Default `--fail-below`, in percent of the budget.
    pub fail_below: Option<f64>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    slo: Option<SloConfig>,
}

/// Reads the `[slo]` table; other tables are ignored, unknown keys inside
/// `[slo]` are errors naming the file and line.
pub fn load(path: &Path) -> Result<SloConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        format!("{}:{line}: {}", path.display(), e.message())
    })?;
    Ok(file.slo.unwrap_or_default())
}
