//! The `[slo]` table of `redline.toml`, read by the one reader
//! ([`redline_config`]): kebab-case keys (`fail-below`, `timeout-secs`);
//! the old snake_case spellings are still read, with a deprecation
//! warning each.

use redline_config::Document;
use std::path::Path;

/// The `[slo]` table: its keys are declared with the other tables of
/// redline.toml (`redline_config::SloTable`); add a key there.
pub use redline_config::SloTable as SloConfig;

/// The `[slo]` table and the deprecation warnings of its old spellings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub config: SloConfig,
    /// One line per old key: `FILE:LINE:COL: ... is deprecated; write ...`.
    pub warnings: Vec<String>,
}

/// Reads the `[slo]` table; an unknown key in any table of the file is an
/// error naming the file, line and column.
pub fn load(path: &Path) -> Result<SloConfig, String> {
    load_with_warnings(path).map(|l| l.config)
}

/// [`load`], with the deprecation warnings for the caller to show.
pub fn load_with_warnings(path: &Path) -> Result<Loaded, String> {
    let doc = Document::load(path)?;
    Ok(Loaded {
        config: from_document(&doc)?.cloned().unwrap_or_default(),
        warnings: doc.old_spellings("slo"),
    })
}

/// The `[slo]` table of a document already read (`None`: there is none),
/// its values checked.
pub fn from_document(doc: &Document) -> Result<Option<&SloConfig>, String> {
    let Some(slo) = &doc.tables().slo else {
        return Ok(None);
    };
    let start = slo.span().start;
    let config = slo.get_ref();
    if let Some(v) = config.fail_below
        && !v.is_finite()
    {
        // The key's own line when it can be found after the table header.
        let text = doc.text();
        let at = ["fail-below", "fail_below"]
            .iter()
            .filter_map(|k| text[start.min(text.len())..].find(k).map(|i| start + i))
            .min()
            .unwrap_or(start);
        return Err(doc.error_at(
            at,
            format!("[slo] fail-below = {v} is not a percentage; give a number such as 0 or 25"),
        ));
    }
    if let Some(m) = &config.min_coverage
        && let Err(why) = crate::status::MinCoverage::parse(m)
    {
        let text = doc.text();
        let at = text[start.min(text.len())..]
            .find("min-coverage")
            .map_or(start, |i| start + i);
        return Err(doc.error_at(
            at,
            format!(
                "[slo] {}",
                why.replacen("--min-coverage", "min-coverage =", 1)
            ),
        ));
    }
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_below_must_be_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        for (text, ok) in [
            ("[slo]\nfail-below = 5.0\n", true),
            ("[slo]\n\nfail-below = nan\n", false),
            ("[slo]\n\nfail-below = inf\n", false),
            ("[slo]\n\nfail_below = -inf\n", false),
        ] {
            let p = dir.join("redline.toml");
            std::fs::write(&p, text).unwrap();
            match load(&p) {
                Ok(c) => assert!(ok && c.fail_below == Some(5.0), "{text}"),
                Err(e) => {
                    assert!(!ok, "{text}: {e}");
                    assert!(e.contains(":3:1:") && e.contains("fail-below"), "{e}");
                }
            }
        }
    }

    #[test]
    fn gate_policies_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("redline.toml");
        std::fs::write(
            &p,
            "[slo]\nmin-coverage = \"10%\"\nallow-no-traffic = true\n",
        )
        .unwrap();
        let c = load(&p).unwrap();
        assert_eq!(c.min_coverage.as_deref(), Some("10%"));
        assert_eq!(c.allow_no_traffic, Some(true));
        std::fs::write(&p, "[slo]\n\nmin-coverage = \"an hour\"\n").unwrap();
        let e = load(&p).unwrap_err();
        assert!(
            e.contains(":3:1: [slo] min-coverage = an hour: give a duration"),
            "{e}"
        );
        std::fs::write(&p, "[slo]\nallow-no-traffic = \"yes\"\n").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains(":2:") && e.contains("bool"), "{e}");
    }

    #[test]
    fn old_spellings_are_read_with_a_deprecation_warning() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("redline.toml");
        std::fs::write(&p, "[slo]\nfail_below = 5.0\ntimeout_secs = 3\n").unwrap();
        let old = load_with_warnings(&p).unwrap();
        std::fs::write(&p, "[slo]\nfail-below = 5.0\ntimeout-secs = 3\n").unwrap();
        let new = load_with_warnings(&p).unwrap();
        assert_eq!(old.config, new.config);
        assert_eq!(new.config.fail_below, Some(5.0));
        assert_eq!(new.config.timeout_secs, Some(3));
        assert!(new.warnings.is_empty());
        let shown = p.display().to_string();
        assert_eq!(
            old.warnings,
            vec![
                format!("{shown}:2:1: `[slo] fail_below` is deprecated; write `fail-below`"),
                format!("{shown}:3:1: `[slo] timeout_secs` is deprecated; write `timeout-secs`"),
            ]
        );
        // An unknown key is named with its position.
        std::fs::write(&p, "[slo]\nwindow = \"30d\"\nfail-belo = 1\n").unwrap();
        let err = load(&p).unwrap_err();
        assert!(
            err.starts_with(&format!("{shown}:3:1: ")) && err.contains("fail-belo"),
            "{err}"
        );
    }
}
