//! `--fix`, `--diff`, `--unsafe-fixes`: applying the fixes rules attach
//! to their findings.
//!
//! - Only safe fixes, unless `--unsafe-fixes`; display-only never.
//! - Never overlapping: fixes are taken in file order and one whose edits
//!   overlap an accepted edit waits for the next round (the driver re-checks
//!   and fixes again until nothing changes).
//! - Never a fix that breaks the file: the fixed text is parsed again with
//!   the same tree-sitter Go grammar before anything is written or shown,
//!   and a fix after which the file has more syntax errors than before is
//!   dropped and reported as "fix skipped" (its finding stays).
//! - Only the file that was read: the path comes from the run's record of
//!   what it read ([`ReadPaths`]), never from the displayed path, and it
//!   must lie inside one of the checked roots.
//! - Never a file that changed since it was read, and written through
//!   [`crate::safe_write`] (atomic for regular files; symlinks, hard links,
//!   read-only files as that module says).

use crate::safe_write;
use redline_diagnostics::render::Sources;
use redline_diagnostics::{Applicability, Diagnostic, Edit};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

/// The fixes of one file.
pub struct FilePlan {
    pub display: String,
    /// Exactly the path the file was read from.
    pub path: PathBuf,
    pub original: std::sync::Arc<[u8]>,
    pub fixed: Vec<u8>,
    pub fixes: usize,
}

/// What [`plan`] decided: the files to write, and one message per fix it
/// dropped (`path:line:col: RULE fix skipped: why`).
#[derive(Default)]
pub struct Planned {
    pub plans: Vec<FilePlan>,
    pub skipped: Vec<String>,
}

/// The path each displayed file was read from. Two files that display the
/// same (on Unix `a\b.go` and `a/b.go` both show as `a/b.go`) make the
/// display ambiguous: no fix is written to either.
#[derive(Debug, Default, Clone)]
pub struct ReadPaths(HashMap<String, Option<PathBuf>>);

impl ReadPaths {
    pub fn insert(&mut self, display: &str, path: &Path) {
        match self.0.get_mut(display) {
            None => {
                self.0.insert(display.to_string(), Some(path.to_path_buf()));
            }
            Some(slot) => {
                if slot.as_deref() != Some(path) {
                    *slot = None;
                }
            }
        }
    }

    pub fn extend(&mut self, other: ReadPaths) {
        for (display, path) in other.0 {
            match path {
                Some(p) => self.insert(&display, &p),
                None => {
                    self.0.insert(display, None);
                }
            }
        }
    }

    /// The path `display` was read from, or why there is none.
    pub fn get(&self, display: &str) -> Result<&Path, &'static str> {
        match self.0.get(display) {
            Some(Some(p)) => Ok(p),
            Some(None) => Err("two files are shown under this name; fix neither"),
            None => Err("redline did not read a file of this name"),
        }
    }
}

/// Whether `path` is one of `roots` or lies below one (lexically, with no
/// `..` after the root), both taken relative to `cwd`.
fn inside_roots(path: &Path, roots: &[PathBuf], cwd: &Path) -> bool {
    let abs = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let path = abs(path);
    roots.iter().any(|root| {
        path.strip_prefix(abs(root)).is_ok_and(|rest| {
            rest.components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        })
    })
}

/// The number of `ERROR` and `MISSING` nodes of Go source, or `None` when
/// the parser gives up.
fn syntax_errors(src: &[u8]) -> Option<usize> {
    let tree = redline_go::parse_tree(src)?;
    let root = tree.root_node();
    if !root.has_error() {
        return Some(0);
    }
    let mut count = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Some(count);
            }
        }
    }
}

/// Whether the fixed text parses with no error the original lacked; the
/// reason when it does not.
fn check_fixed(display: &str, fixed: &[u8], errors_before: Option<usize>) -> Result<(), String> {
    if !display.ends_with(".go") {
        return Err("redline checks fixes to Go files only".into());
    }
    let after = syntax_errors(fixed);
    match (errors_before, after) {
        (Some(b), Some(a)) if a <= b => Ok(()),
        (_, None) => Err("the fixed file would not parse".into()),
        _ => {
            let what = redline_go::parse_tree(fixed)
                .and_then(|t| redline_go::first_error(&t, fixed))
                .map(|(start, _, what)| {
                    let line = fixed[..start.min(fixed.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1;
                    format!("{what} at line {line}")
                })
                .unwrap_or_else(|| "a syntax error".into());
            Err(format!("the fixed file would not parse ({what})"))
        }
    }
}

/// Whether `fix`, applied alone to `src` (the file shown as `display`),
/// leaves a file that parses no worse than before: the check `--fix`
/// makes, for callers that offer one fix at a time (the language server's
/// code actions).
pub fn keeps_parsing(display: &str, src: &[u8], fix: &redline_diagnostics::Fix) -> bool {
    let edits: Vec<&Edit> = fix.edits.iter().collect();
    let in_bounds = edits.iter().all(|e| {
        e.span.start_byte <= e.span.end_byte
            && is_boundary(src, e.span.start_byte)
            && is_boundary(src, e.span.end_byte)
    });
    in_bounds && check_fixed(display, &apply_edits(src, &edits), syntax_errors(src)).is_ok()
}

fn apply_edits(src: &[u8], edits: &[&Edit]) -> Vec<u8> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| e.span.start_byte);
    let mut fixed = Vec::with_capacity(src.len());
    let mut at = 0;
    for e in sorted {
        fixed.extend_from_slice(&src[at..e.span.start_byte]);
        fixed.extend_from_slice(e.content.as_bytes());
        at = e.span.end_byte;
    }
    fixed.extend_from_slice(&src[at..]);
    fixed
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

/// Plans the fixes of every file with applicable fixes: `paths` says where
/// each file was read, `roots` are the checked paths (a fix outside them
/// is never planned).
pub fn plan(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    paths: &ReadPaths,
    roots: &[PathBuf],
    cwd: &Path,
    unsafe_fixes: bool,
) -> Planned {
    let mut by_file: BTreeMap<&str, Vec<&Diagnostic>> = BTreeMap::new();
    for d in diagnostics {
        if d.fix
            .as_ref()
            .is_some_and(|f| applies(f.applicability, unsafe_fixes) && !f.edits.is_empty())
        {
            by_file.entry(d.path.as_str()).or_default().push(d);
        }
    }
    let mut planned = Planned::default();
    let skip = |d: &Diagnostic, why: &str| {
        format!(
            "{}:{}:{}: {} fix skipped: {why}",
            d.path, d.span.line, d.span.column, d.rule
        )
    };
    for (display, mut diags) in by_file {
        let Some(src) = sources.get(display) else {
            continue;
        };
        let path = match paths.get(display) {
            Ok(p) if inside_roots(p, roots, cwd) => p.to_path_buf(),
            Ok(_) => {
                for d in &diags {
                    planned
                        .skipped
                        .push(skip(d, "the file is outside the checked paths"));
                }
                continue;
            }
            Err(why) => {
                for d in &diags {
                    planned.skipped.push(skip(d, why));
                }
                continue;
            }
        };
        diags.sort_by_key(|d| {
            d.fix
                .as_ref()
                .and_then(|f| f.edits.iter().map(|e| e.span.start_byte).min())
        });
        // Non-overlapping, well-formed fixes, in file order.
        let mut accepted: Vec<&Edit> = Vec::new();
        let mut chosen: Vec<(&Diagnostic, &[Edit])> = Vec::new();
        for d in diags {
            let Some(edits) = d.fix.as_ref().map(|f| f.edits.as_slice()) else {
                continue;
            };
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
                chosen.push((d, edits));
            }
        }
        if chosen.is_empty() {
            continue;
        }
        let errors_before = syntax_errors(src);
        let mut fixed = apply_edits(src, &accepted);
        let mut count = chosen.len();
        if let Err(why) = check_fixed(display, &fixed, errors_before) {
            // Some fix breaks the file: keep those that do not, one by one.
            let mut kept: Vec<&Edit> = Vec::new();
            count = 0;
            for (d, edits) in &chosen {
                let mut trial = kept.clone();
                trial.extend(edits.iter());
                match check_fixed(display, &apply_edits(src, &trial), errors_before) {
                    Ok(()) => {
                        kept = trial;
                        count += 1;
                    }
                    Err(reason) => planned.skipped.push(skip(d, &reason)),
                }
            }
            if count == 0 {
                continue;
            }
            fixed = apply_edits(src, &kept);
            if check_fixed(display, &fixed, errors_before).is_err() {
                for (d, _) in &chosen {
                    planned.skipped.push(skip(d, &why));
                }
                continue;
            }
        }
        if fixed[..] == src[..] {
            continue;
        }
        planned.plans.push(FilePlan {
            display: display.to_string(),
            path,
            original: src.clone(),
            fixed,
            fixes: count,
        });
    }
    planned.skipped.sort();
    planned.skipped.dedup();
    planned
}

/// Applies the plans; returns the number of fixes written, one message
/// per file that could not be written, and notes (hard links written in
/// place).
pub fn apply(plans: &[FilePlan], read_only_ok: bool) -> (usize, Vec<String>, Vec<String>) {
    let mut applied = 0;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for p in plans {
        match safe_write::write(
            &p.path,
            safe_write::Request::fix(&p.fixed, &p.original, read_only_ok),
        ) {
            Ok(written) => {
                applied += p.fixes;
                notes.extend(written.note(&p.display));
            }
            Err(e) => problems.push(format!("{}: {e}", p.display)),
        }
    }
    (applied, problems, notes)
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
            rule: redline_rules::find_rule("RL101").expect("a catalog rule"),
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

    fn one_file(src: &str) -> (Sources, ReadPaths) {
        let mut sources = Sources::new();
        sources.insert("a.go".into(), src.as_bytes().into());
        let mut paths = ReadPaths::default();
        paths.insert("a.go", Path::new("/w/a.go"));
        (sources, paths)
    }

    #[test]
    fn overlapping_and_unsafe_fixes_wait() {
        let src = "package p\n\nvar m = new(map[string]int)\n";
        let (sources, paths) = one_file(src);
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
        let roots = [PathBuf::from("/w")];
        let planned = plan(&diags, &sources, &paths, &roots, Path::new("/w"), false);
        let plans = planned.plans;
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].fixes, 1);
        assert_eq!(plans[0].fixed, b"package p\n\nvar m = &map[string]int{}\n");
        assert_eq!(plans[0].path, Path::new("/w/a.go"));
        let plans = plan(&diags, &sources, &paths, &roots, Path::new("/w"), true).plans;
        assert_eq!(
            plans[0].fixed,
            b"package p\n\nconst m = &map[string]int{}\n"
        );
        let diff = unified_diff(&plans);
        assert!(
            diff.contains("-var m = new(map[string]int)\n+const m = &map[string]int{}\n"),
            "{diff}"
        );
    }

    #[test]
    fn keeps_parsing_judges_one_fix_as_plan_does() {
        let src = "package p\n\nvar a = new(map[string]int)\n";
        let good = diag(
            src,
            "new(map[string]int)",
            "&map[string]int{}",
            Applicability::Safe,
        );
        let bad = diag(src, "new(map[string]int)", "&{}", Applicability::Safe);
        let fix = |d: &Diagnostic| d.fix.clone().expect("fix");
        assert!(keeps_parsing("a.go", src.as_bytes(), &fix(&good)));
        assert!(!keeps_parsing("a.go", src.as_bytes(), &fix(&bad)));
        // Fixes are checked for Go files only.
        assert!(!keeps_parsing("d.yaml", src.as_bytes(), &fix(&good)));
    }

    #[test]
    fn a_fix_that_breaks_the_syntax_is_skipped_and_the_others_kept() {
        let src = "package p\n\nvar a = new(map[string]int)\n\nvar b = new(map[int]int)\n";
        let (sources, paths) = one_file(src);
        let diags = vec![
            diag(src, "new(map[string]int)", "&{}", Applicability::Safe),
            diag(
                src,
                "new(map[int]int)",
                "&map[int]int{}",
                Applicability::Safe,
            ),
        ];
        let roots = [PathBuf::from("/w")];
        let planned = plan(&diags, &sources, &paths, &roots, Path::new("/w"), false);
        assert_eq!(planned.plans.len(), 1);
        assert_eq!(planned.plans[0].fixes, 1);
        assert_eq!(
            planned.plans[0].fixed,
            b"package p\n\nvar a = new(map[string]int)\n\nvar b = &map[int]int{}\n"
        );
        assert_eq!(planned.skipped.len(), 1, "{:?}", planned.skipped);
        assert!(
            planned.skipped[0]
                .starts_with("a.go:3:9: RL101 fix skipped: the fixed file would not parse"),
            "{:?}",
            planned.skipped
        );
        // Alone, the broken fix leaves nothing to write.
        let planned = plan(
            &diags[..1],
            &sources,
            &paths,
            &roots,
            Path::new("/w"),
            false,
        );
        assert!(planned.plans.is_empty());
        assert_eq!(planned.skipped.len(), 1);
    }

    #[test]
    fn fixes_go_only_to_the_path_read_inside_the_roots() {
        let src = "package p\n\nvar m = new(map[string]int)\n";
        let (sources, _) = one_file(src);
        let diags = vec![diag(
            src,
            "new(map[string]int)",
            "&map[string]int{}",
            Applicability::Safe,
        )];
        let cwd = Path::new("/w");
        // The path that was read, not one rebuilt from the display.
        let mut paths = ReadPaths::default();
        paths.insert("a.go", Path::new("/w/tree/a\\b.go"));
        let roots = [PathBuf::from("tree")];
        let planned = plan(&diags, &sources, &paths, &roots, cwd, false);
        assert_eq!(planned.plans[0].path, Path::new("/w/tree/a\\b.go"));
        // Outside the checked roots: skipped.
        let planned = plan(
            &diags,
            &sources,
            &paths,
            &[PathBuf::from("other")],
            cwd,
            false,
        );
        assert!(planned.plans.is_empty());
        assert!(planned.skipped[0].contains("outside the checked paths"));
        let mut paths = ReadPaths::default();
        paths.insert("a.go", Path::new("/w/tree/../outside/a.go"));
        let planned = plan(&diags, &sources, &paths, &roots, cwd, false);
        assert!(planned.plans.is_empty(), "a `..` after the root is outside");
        // Two files shown under one name: neither is fixed.
        let mut paths = ReadPaths::default();
        paths.insert("a.go", Path::new("/w/tree/a.go"));
        let mut other = ReadPaths::default();
        other.insert("a.go", Path::new("/w/tree/sub/a.go"));
        paths.extend(other);
        let planned = plan(&diags, &sources, &paths, &roots, cwd, false);
        assert!(planned.plans.is_empty());
        assert!(
            planned.skipped[0].contains("two files"),
            "{:?}",
            planned.skipped
        );
        // Never read: nothing to write.
        let planned = plan(&diags, &sources, &ReadPaths::default(), &roots, cwd, false);
        assert!(planned.plans.is_empty());
    }
}
