//! What RL801 `slo-spec-missing` (the catalog's `redline_rules::slo`)
//! checks against: the services of the SLO specs `[slo] specs` of
//! redline.toml matches. Inactive until `[slo] specs` is set; `[slo]
//! services` limits it to the services it lists. Specs are read by
//! `redline_slo` (Sloth `prometheus/v1`, `PrometheusServiceLevel`,
//! OpenSLO), so every format `redline slo` reads counts.

use redline_config::Document;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What RL801 checks against: set when `[slo] specs` is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SloCoverage {
    /// The `service` of every SLO in the spec files (valid or not: a spec
    /// with a typo is `redline slo validate`'s finding, not a missing SLO).
    pub services: BTreeSet<String>,
    /// `[slo] services`: only these services need an SLO.
    pub only: Option<BTreeSet<String>>,
    /// The spec files read, relative to redline.toml's directory.
    pub files: Vec<String>,
}

/// Reads the spec files `[slo] specs` of `doc` matches. `None` when it is
/// not set.
pub(crate) fn coverage(doc: &Document) -> Result<Option<SloCoverage>, String> {
    // The whole table as `redline slo` reads it: a `fail-below = nan` is
    // an error here too.
    let Some(table) = redline_slo::config::from_document(doc)? else {
        return Ok(None);
    };
    let Some(specs) = &table.specs else {
        return Ok(None);
    };
    let display = doc.display();
    let base = doc.dir();
    let mut files: BTreeSet<PathBuf> = BTreeSet::new();
    for pattern in specs {
        let at = |message: String| doc.error_at(pattern.span().start, message);
        let glob = globset::GlobBuilder::new(pattern.get_ref())
            .literal_separator(true)
            .build()
            .map_err(|e| {
                at(format!(
                    "[slo] specs: `{}` is not a glob: {e}",
                    pattern.get_ref()
                ))
            })?
            .compile_matcher();
        let before = files.len();
        let start = base.join(literal_prefix(pattern.get_ref()));
        walk(&start, &base, &glob, 0, &mut files);
        if files.len() == before {
            return Err(at(format!(
                "[slo] specs: `{}` matches no file (globs are relative to {}); fix the glob or remove `specs` to turn RL801 off",
                pattern.get_ref(),
                base.display()
            )));
        }
    }
    let mut read = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("{display}: [slo] specs: cannot read {}: {e}", f.display()))?;
        let rel = f.strip_prefix(&base).unwrap_or(f).display().to_string();
        read.push((rel, text));
    }
    let loaded = redline_slo::spec::load_all(&read, redline_slo::spec::DEFAULT_WINDOW_SECS);
    Ok(Some(SloCoverage {
        services: loaded.services.into_iter().collect(),
        only: table.services.as_ref().map(|s| s.iter().cloned().collect()),
        files: read.into_iter().map(|(p, _)| p).collect(),
    }))
}

/// The directories of a glob before its first wildcard.
fn literal_prefix(pattern: &str) -> PathBuf {
    let mut out = PathBuf::new();
    let parts: Vec<&str> = pattern.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if part.contains(['*', '?', '[', '{']) {
            break;
        }
        out.push(part);
    }
    out
}

fn walk(
    dir: &Path,
    base: &Path,
    glob: &globset::GlobMatcher,
    depth: usize,
    out: &mut BTreeSet<PathBuf>,
) {
    if depth > 32 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if e.file_name() != ".git" {
                walk(&path, base, glob, depth + 1, out);
            }
        } else if kind.is_file()
            && let Ok(rel) = path.strip_prefix(base)
            && glob.is_match(rel)
        {
            out.insert(path);
        }
    }
}
