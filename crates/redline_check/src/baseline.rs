//! The baseline: `--write-baseline FILE` records today's findings,
//! `--baseline FILE` hides them, so a team can gate new code without
//! fixing a legacy tree first.
//!
//! Findings are matched by the fingerprints of
//! [`redline_diagnostics::fingerprints`] (rule, file, normalised text of the
//! flagged lines, occurrence counter — never a line number), computed with
//! paths relative to the baseline file's directory, so the baseline works
//! from any working directory and survives unrelated edits. Writing the
//! baseline again records only what is found now: a fixed finding leaves.

use redline_diagnostics::render::Sources;
use redline_diagnostics::{Diagnostic, fingerprints};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    findings: Vec<Finding>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Finding {
    fingerprint: String,
    rule: String,
    path: String,
    /// For people reading the file; matching never uses it.
    line: usize,
    message: String,
}

/// Lexically normalised (`a/b/../c` → `a/c`), without touching the disk.
pub fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `base`, both absolute and lexically normalised
/// (`a/b/../c` → `a/c`); `None` if `path` is not under `base`.
fn relative_to(path: &Path, base: &Path) -> Option<String> {
    let rel = normalise(path)
        .strip_prefix(normalise(base))
        .ok()?
        .to_path_buf();
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The fingerprints of `diagnostics` with paths relative to `base_dir`.
fn rooted_fingerprints(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    base_dir: &Path,
    cwd: &Path,
) -> (Vec<String>, Vec<String>) {
    let mut renamed = Vec::with_capacity(diagnostics.len());
    let mut rooted_sources = Sources::new();
    let mut paths = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let abs = absolute(Path::new(&d.path), cwd);
        let rel = relative_to(&abs, base_dir).unwrap_or_else(|| abs.to_string_lossy().into());
        if let Some(src) = sources.get(&d.path) {
            rooted_sources.insert(rel.clone(), src.clone());
        }
        let mut r = d.clone();
        r.path = rel.clone();
        renamed.push(r);
        paths.push(rel);
    }
    (fingerprints(&renamed, &rooted_sources), paths)
}

fn base_dir(file: &Path, cwd: &Path) -> PathBuf {
    absolute(file, cwd)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.to_path_buf())
}

/// Writes the baseline of `diagnostics` to `file` (through
/// [`crate::safe_write`]: atomically for a regular file).
pub fn write(
    file: &Path,
    diagnostics: &[Diagnostic],
    sources: &Sources,
    cwd: &Path,
) -> Result<usize, String> {
    let base = base_dir(file, cwd);
    let (fps, paths) = rooted_fingerprints(diagnostics, sources, &base, cwd);
    let findings: Vec<Finding> = diagnostics
        .iter()
        .zip(fps)
        .zip(paths)
        .map(|((d, fingerprint), path)| Finding {
            fingerprint,
            rule: d.rule.to_string(),
            path,
            line: d.span.line,
            message: d.message.clone(),
        })
        .collect();
    let n = findings.len();
    let mut text = serde_json::to_string_pretty(&File {
        version: VERSION,
        findings,
    })
    .map_err(|e| format!("{}: cannot encode the baseline: {e}", file.display()))?;
    text.push('\n');
    crate::safe_write::write(
        &absolute(file, cwd),
        crate::safe_write::Request::output(text.as_bytes()),
    )
    .map_err(|e| format!("{}: cannot write the baseline: {e}", file.display()))?;
    Ok(n)
}

/// A loaded baseline: how many times each fingerprint may still hide a
/// finding.
pub struct Baseline {
    counts: HashMap<String, usize>,
    base: PathBuf,
}

impl Baseline {
    pub fn load(file: &Path, cwd: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{}: baseline not found (create it with `redline check --write-baseline {}`)",
                    file.display(),
                    file.display()
                )
            } else {
                format!("{}: cannot read the baseline: {e}", file.display())
            }
        })?;
        let parsed: File = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}:{}: not a redline baseline: {e} (re-create it with --write-baseline)",
                file.display(),
                e.line(),
                e.column()
            )
        })?;
        if parsed.version != VERSION {
            return Err(format!(
                "{}: baseline version {} is not supported (expected {VERSION}); re-create it with --write-baseline",
                file.display(),
                parsed.version
            ));
        }
        let mut counts = HashMap::new();
        for f in parsed.findings {
            *counts.entry(f.fingerprint).or_insert(0) += 1;
        }
        Ok(Baseline {
            counts,
            base: base_dir(file, cwd),
        })
    }

    /// Removes the findings the baseline records; returns how many it hid.
    pub fn filter(
        &self,
        diagnostics: Vec<Diagnostic>,
        sources: &Sources,
        cwd: &Path,
    ) -> (Vec<Diagnostic>, usize) {
        let (fps, _) = rooted_fingerprints(&diagnostics, sources, &self.base, cwd);
        let mut counts = self.counts.clone();
        let mut hidden = 0;
        let kept = diagnostics
            .into_iter()
            .zip(fps)
            .filter_map(|(d, fp)| match counts.get_mut(&fp) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    hidden += 1;
                    None
                }
                _ => Some(d),
            })
            .collect();
        (kept, hidden)
    }
}
