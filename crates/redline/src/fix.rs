//! `--fix`, `--diff`, `--unsafe-fixes`: applying the fixes rules attach
//! to their findings.
//!
//! - Only safe fixes, unless `--unsafe-fixes`; display-only never.
//! - Never overlapping: fixes are taken in file order and one whose edits
//!   overlap an accepted edit waits for the next round (the driver re-checks
//!   and fixes again until nothing changes).
//! - Never a file that changed since it was read: its bytes are hashed and
//!   compared with the analysed text right before writing.
//! - Atomic: the new text goes to a temporary file in the same directory,
//!   which takes the original's permissions and is renamed over it.

use redline_diagnostics::render::Sources;
use redline_diagnostics::{Applicability, Diagnostic, Edit};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_128;

/// The fixes of one file.
pub struct FilePlan {
    pub display: String,
    pub path: PathBuf,
    pub original: std::sync::Arc<[u8]>,
    pub fixed: Vec<u8>,
    pub fixes: usize,
}

fn is_boundary(src: &[u8], at: usize) -> bool {
    at == src.len() || (at < src.len() && (src[at] & 0xC0) != 0x80)
}

fn overlaps(a: &Edit, b: &Edit) -> bool {
    let (a0, a1, b0, b1) = (
        a.span.start_byte,
        a.span.end_byte,
        b.span.start_byte,
        b.span.end_byte,
    );
    // Two edits at the same point would depend on their order: overlap.
    (a0 < b1 && b0 < a1) || a0 == b0
}

/// Whether a fix of this applicability is applied.
pub fn applies(a: Applicability, unsafe_fixes: bool) -> bool {
    match a {
        Applicability::Safe => true,
        Applicability::Unsafe => unsafe_fixes,
        Applicability::DisplayOnly => false,
    }
}

/// Plans the fixes of every file with applicable fixes.
pub fn plan(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    cwd: &Path,
    unsafe_fixes: bool,
) -> Vec<FilePlan> {
    let mut by_file: BTreeMap<&str, Vec<&Diagnostic>> = BTreeMap::new();
    for d in diagnostics {
        if d.fix
            .as_ref()
            .is_some_and(|f| applies(f.applicability, unsafe_fixes) && !f.edits.is_empty())
        {
            by_file.entry(d.path.as_str()).or_default().push(d);
        }
    }
    let mut plans = Vec::new();
    for (display, diags) in by_file {
        let Some(src) = sources.get(display) else {
            continue;
        };
        let mut fixes: Vec<&[Edit]> = diags
            .iter()
            .filter_map(|d| d.fix.as_ref().map(|f| f.edits.as_slice()))
            .collect();
        fixes.sort_by_key(|edits| edits.iter().map(|e| e.span.start_byte).min());
        let mut accepted: Vec<&Edit> = Vec::new();
        let mut count = 0;
        for edits in fixes {
            let valid = edits.iter().all(|e| {
                e.span.start_byte <= e.span.end_byte
                    && is_boundary(src, e.span.start_byte)
                    && is_boundary(src, e.span.end_byte)
            });
            let clash = edits.iter().enumerate().any(|(i, e)| {
                edits[..i].iter().any(|o| overlaps(e, o)) || accepted.iter().any(|o| overlaps(e, o))
            });
            if valid && !clash {
                accepted.extend(edits.iter());
                count += 1;
            }
        }
        if count == 0 {
            continue;
        }
        accepted.sort_by_key(|e| e.span.start_byte);
        let mut fixed = Vec::with_capacity(src.len());
        let mut at = 0;
        for e in &accepted {
            fixed.extend_from_slice(&src[at..e.span.start_byte]);
            fixed.extend_from_slice(e.content.as_bytes());
            at = e.span.end_byte;
        }
        fixed.extend_from_slice(&src[at..]);
        if fixed[..] == src[..] {
            continue;
        }
        let p = Path::new(display);
        plans.push(FilePlan {
            display: display.to_string(),
            path: if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            },
            original: src.clone(),
            fixed,
            fixes: count,
        });
    }
    plans
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, the original's permissions, a rename. With `expected`, the
/// file must still hash to it (it has not changed since it was read).
pub fn write_atomically(path: &Path, bytes: &[u8], expected: Option<u128>) -> std::io::Result<()> {
    let existing = std::fs::metadata(path).ok();
    if let Some(want) = expected {
        let now = std::fs::read(path)?;
        if xxh3_128(&now) != want {
            return Err(std::io::Error::other(
                "the file changed since redline read it; not touched (re-run to fix it)",
            ));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".redline-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match existing {
        Some(meta) => std::fs::set_permissions(tmp.path(), meta.permissions())?,
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Applies the plans; returns the number of fixes written and one message
/// per file that could not be written.
pub fn apply(plans: &[FilePlan]) -> (usize, Vec<String>) {
    let mut applied = 0;
    let mut problems = Vec::new();
    for p in plans {
        match write_atomically(&p.path, &p.fixed, Some(xxh3_128(&p.original))) {
            Ok(()) => applied += p.fixes,
            Err(e) => problems.push(format!("{}: {e}", p.display)),
        }
    }
    (applied, problems)
}

/// The plans as one unified diff (`--diff`).
pub fn unified_diff(plans: &[FilePlan]) -> String {
    let mut out = String::new();
    for p in plans {
        let old = String::from_utf8_lossy(&p.original);
        let new = String::from_utf8_lossy(&p.fixed);
        let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", p.display), &format!("b/{}", p.display))
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use redline_diagnostics::{Fix, LineIndex, Severity};

    fn diag(src: &str, needle: &str, content: &str, a: Applicability) -> Diagnostic {
        let start = src.find(needle).expect("needle");
        let span = LineIndex::new(src.as_bytes()).span(start, start + needle.len());
        Diagnostic {
            rule: "RL101",
            name: "new-map",
            severity: Severity::Error,
            path: "a.go".into(),
            span,
            message: "m".into(),
            help: None,
            fix: Some(Fix {
                applicability: a,
                edits: vec![Edit {
                    span,
                    content: content.into(),
                }],
            }),
        }
    }

    #[test]
    fn overlapping_and_unsafe_fixes_wait() {
        let src = "var m = new(map[string]int)\n";
        let mut sources = Sources::new();
        sources.insert("a.go".into(), src.as_bytes().into());
        let diags = vec![
            diag(
                src,
                "new(map[string]int)",
                "&map[string]int{}",
                Applicability::Safe,
            ),
            diag(src, "map[string]int", "X", Applicability::Safe),
            diag(src, "var", "const", Applicability::Unsafe),
        ];
        let plans = plan(&diags, &sources, Path::new("/w"), false);
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].fixes, 1);
        assert_eq!(plans[0].fixed, b"var m = &map[string]int{}\n");
        assert_eq!(plans[0].path, Path::new("/w/a.go"));
        let plans = plan(&diags, &sources, Path::new("/w"), true);
        assert_eq!(plans[0].fixed, b"const m = &map[string]int{}\n");
        let diff = unified_diff(&plans);
        assert!(
            diff.contains("-var m = new(map[string]int)\n+const m = &map[string]int{}\n"),
            "{diff}"
        );
    }

    #[test]
    fn refuses_a_file_that_changed_since_it_was_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.go");
        std::fs::write(&path, "old").expect("write");
        let err = write_atomically(&path, b"new", Some(xxh3_128(b"something else")))
            .expect_err("must refuse");
        assert!(err.to_string().contains("changed since"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        write_atomically(&path, b"new", Some(xxh3_128(b"old"))).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name() != "a.go")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind");
    }
}
