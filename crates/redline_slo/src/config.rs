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
    /// Globs of the SLO spec files, relative to this redline.toml (RL801 of
    /// `redline check` reads them; setting it turns RL801 on).
    pub specs: Option<Vec<String>>,
    /// RL801 applies only to these services.
    pub services: Option<Vec<String>>,
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
    let slo = file.slo.unwrap_or_default();
    if let Some(v) = slo.fail_below
        && !v.is_finite()
    {
        let line = text
            .lines()
            .position(|l| {
                l.trim_start().starts_with("fail_below") || l.trim_start().starts_with("fail-below")
            })
            .map_or(1, |i| i + 1);
        return Err(format!(
            "{}:{line}: [slo] fail_below = {v} is not a percentage; give a number such as 0 or 25",
            path.display()
        ));
    }
    Ok(slo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_below_must_be_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        for (text, ok) in [
            ("[slo]\nfail_below = 5.0\n", true),
            ("[slo]\n\nfail_below = nan\n", false),
            ("[slo]\n\nfail_below = inf\n", false),
            ("[slo]\n\nfail_below = -inf\n", false),
        ] {
            let p = dir.join("redline.toml");
            std::fs::write(&p, text).unwrap();
            match load(&p) {
                Ok(c) => assert!(ok && c.fail_below == Some(5.0), "{text}"),
                Err(e) => {
                    assert!(!ok, "{text}: {e}");
                    assert!(e.contains(":3:") && e.contains("fail_below"), "{e}");
                }
            }
        }
    }
}
