//! New-code gating and the baseline, against real git histories built in
//! temporary directories.

mod common;
use common::*;

use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// (path, line, rule) of every finding in a JSON report.
fn findings(out: &Output) -> Vec<(String, u64, String)> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

const OLD: &str = "package p\n\nvar legacy = new(map[string]int)\n\nfunc keep() {}\n";

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q"]);
    write(dir.path(), ".gitignore", ".cache/\n");
    write(dir.path(), "p/old.go", OLD);
    write(
        dir.path(),
        "p/moved.go",
        "package p\n\nvar moved = new(map[int]int)\n",
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "legacy"]);
    dir
}

#[test]
fn new_from_rev_reports_only_added_and_changed_lines() {
    let dir = repo();
    let d = dir.path();
    // Committed change: a new finding in an existing file, below the old one.
    write(
        d,
        "p/old.go",
        &format!("{OLD}\nvar added = new(map[string]bool)\n"),
    );
    // A rename: only changed lines of a moved file are new.
    git(d, &["mv", "p/moved.go", "p/renamed.go"]);
    git(d, &["commit", "-q", "-am", "change"]);
    // Uncommitted edit and an untracked file count as new as well.
    write(
        d,
        "p/untracked.go",
        "package p\n\nvar u = new(map[int]string)\n",
    );
    let all = findings(&redline(d, &["check", "--format", "json", "."]));
    assert_eq!(all.len(), 4, "{all:?}");
    let out = redline(
        d,
        &["check", "--format", "json", "--new-from-rev", "HEAD~1", "."],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        findings(&out),
        vec![
            ("p/old.go".to_string(), 7, "RL101".to_string()),
            ("p/untracked.go".to_string(), 3, "RL101".to_string()),
        ]
    );
    // From a subdirectory, with paths relative to it.
    let out = redline(
        &d.join("p"),
        &["check", "--format", "json", "--new-from-rev", "HEAD", "."],
    );
    assert_eq!(
        findings(&out),
        vec![("untracked.go".to_string(), 3, "RL101".to_string())]
    );
    // Nothing new since the working tree's own state: exit 0.
    std::fs::remove_file(d.join("p/untracked.go")).expect("rm");
    let out = redline(d, &["check", "--new-from-rev", "HEAD", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn new_from_merge_base_compares_with_the_branch_point() {
    let dir = repo();
    let d = dir.path();
    git(d, &["checkout", "-q", "-b", "feature"]);
    write(
        d,
        "p/feature.go",
        "package p\n\nvar f = new(map[string]int)\n",
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "feature"]);
    // main moves on after the branch point; its changes are not the branch's.
    git(d, &["checkout", "-q", "main"]);
    write(
        d,
        "p/later.go",
        "package p\n\nvar l = new(map[string]int)\n",
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "main moves on"]);
    git(d, &["checkout", "-q", "feature"]);
    let out = redline(
        d,
        &[
            "check",
            "--format",
            "json",
            "--new-from-merge-base",
            "main",
            ".",
        ],
    );
    assert_eq!(
        findings(&out),
        vec![("p/feature.go".to_string(), 3, "RL101".to_string())]
    );
}

#[test]
fn new_code_errors_are_clear() {
    let dir = repo();
    let out = redline(dir.path(), &["check", "--new-from-rev", "no-such-rev", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`no-such-rev` is not a commit"), "{err}");
    let plain = tempfile::tempdir().expect("tempdir");
    write(plain.path(), "a.go", "package a\n");
    let out = redline(
        plain.path(),
        &["check", "--new-from-merge-base", "main", "."],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not inside a git checkout"), "{err}");
}

#[test]
fn baseline_hides_known_findings_across_unrelated_edits() {
    let dir = repo();
    let d = dir.path();
    let out = redline(
        d,
        &["check", "--write-baseline", "redline-baseline.json", "."],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("redline-baseline.json")).expect("baseline"),
    )
    .expect("JSON");
    assert_eq!(base["findings"].as_array().map(Vec::len), Some(2));
    let out = redline(d, &["check", "--baseline", "redline-baseline.json", "."]);
    assert_eq!(out.status.code(), Some(0));

    // Unrelated edits: lines inserted above, the declaration moved below a
    // new function, re-indented; and one new finding.
    write(
        d,
        "p/old.go",
        "package p\n\n// Package comment.\n\nfunc keep() {}\n\nfunc other() {}\n\n  var   legacy = new(map[string]int)\n\nvar fresh = new(map[string]int)\n",
    );
    let out = redline(
        d,
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "redline-baseline.json",
            ".",
        ],
    );
    assert_eq!(
        findings(&out),
        vec![("p/old.go".to_string(), 11, "RL101".to_string())]
    );
    // The baseline works from another working directory too.
    let out = redline(
        &d.join("p"),
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "../redline-baseline.json",
            ".",
        ],
    );
    assert_eq!(
        findings(&out),
        vec![("old.go".to_string(), 11, "RL101".to_string())]
    );

    // Fix the moved finding; re-writing the baseline drops it.
    std::fs::remove_file(d.join("p/moved.go")).expect("rm");
    let out = redline(
        d,
        &["check", "--write-baseline", "redline-baseline.json", "."],
    );
    assert_eq!(out.status.code(), Some(0));
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("redline-baseline.json")).expect("baseline"),
    )
    .expect("JSON");
    let paths: Vec<&str> = base["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, vec!["p/old.go", "p/old.go"]);
    // Re-adding the fixed finding shows it again: it left the baseline.
    write(
        d,
        "p/moved.go",
        "package p\n\nvar moved = new(map[int]int)\n",
    );
    let out = redline(
        d,
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "redline-baseline.json",
            ".",
        ],
    );
    assert_eq!(
        findings(&out),
        vec![("p/moved.go".to_string(), 3, "RL101".to_string())]
    );
}

#[test]
fn baseline_errors_are_clear() {
    let dir = repo();
    let out = redline(dir.path(), &["check", "--baseline", "missing.json", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--write-baseline missing.json"));
    write(dir.path(), "bad.json", "{\"version\": 1, \"findings\": 3}");
    let out = redline(dir.path(), &["check", "--baseline", "bad.json", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json:1:"));
}

/// `--fix` writes only what the run reports: findings hidden by new-code
/// gating or by the baseline stay as they are.
#[test]
fn fix_writes_only_the_findings_it_reports() {
    let dir = repo();
    let d = dir.path();
    let moved_before = std::fs::read(d.join("p/moved.go")).expect("read");
    // A new finding two lines above the legacy one: fixing it does not
    // move the legacy line, but the legacy line must stay unfixed.
    write(
        d,
        "p/old.go",
        "package p\n\nvar added = new(map[string]bool)\n\nvar legacy = new(map[string]int)\n\nfunc keep() {}\n",
    );
    let out = redline(
        d,
        &[
            "check",
            "--fix",
            "--format",
            "json",
            "--new-from-rev",
            "HEAD",
            ".",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fixed 1 finding; 0 remain"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("p/old.go")).expect("read"),
        "package p\n\nvar added = &map[string]bool{}\n\nvar legacy = new(map[string]int)\n\nfunc keep() {}\n"
    );
    assert_eq!(
        std::fs::read(d.join("p/moved.go")).expect("read"),
        moved_before
    );

    // The baseline: its two findings stay, a new one is fixed.
    let out = redline(d, &["check", "--write-baseline", "base.json", "."]);
    assert_eq!(out.status.code(), Some(0));
    write(
        d,
        "p/fresh.go",
        "package p\n\nvar fresh = new(map[int]bool)\n",
    );
    let out = redline(d, &["check", "--fix", "--baseline", "base.json", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fixed 1 finding; 0 remain"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("p/fresh.go")).expect("read"),
        "package p\n\nvar fresh = &map[int]bool{}\n"
    );
    assert_eq!(
        std::fs::read(d.join("p/moved.go")).expect("read"),
        moved_before
    );
    assert!(
        std::fs::read_to_string(d.join("p/old.go"))
            .expect("read")
            .contains("var legacy = new(map[string]int)")
    );
    // --diff shows the same view: nothing left to fix.
    let out = redline(d, &["check", "--diff", "--baseline", "base.json", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn commit_all(d: &Path, message: &str) {
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", message]);
}

/// (path, rule) of every finding, for comparisons that do not care about lines.
fn rules_at(out: &Output) -> Vec<(String, String)> {
    findings(out).into_iter().map(|(p, _, r)| (p, r)).collect()
}

const GUARDED: &str = "package p

import (
\t\"context\"
\t\"sync\"
)

type Reconciler struct {
\tmu    sync.Mutex
\tcache map[string]int
}

func (r *Reconciler) Reconcile(ctx context.Context, name string) error {
\tr.mu.Lock()
\tdefer r.mu.Unlock()
\tr.cache[name]++
\treturn nil
}
";

/// Deleting a guard makes a finding appear on a line that did not change:
/// the default (new findings) catches it, `--new-lines-only` cannot.
#[test]
fn a_deleted_guard_is_a_new_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(d, "ctrl/reconciler.go", GUARDED);
    commit_all(d, "guarded");
    let before = redline(d, &["check", "--format", "json", "."]);
    assert_eq!(rules_at(&before), vec![], "the guarded reconciler is clean");
    let unguarded = GUARDED
        .replace("\t\"sync\"\n", "")
        .replace("\tmu    sync.Mutex\n", "")
        .replace("\tr.mu.Lock()\n\tdefer r.mu.Unlock()\n", "");
    assert!(unguarded.contains("\tcache map[string]int\n"));
    write(d, "ctrl/reconciler.go", &unguarded);
    let out = redline(
        d,
        &["check", "--format", "json", "--new-from-rev", "HEAD", "."],
    );
    assert_eq!(
        rules_at(&out),
        vec![("ctrl/reconciler.go".to_string(), "RL202".to_string())],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reporting only new findings"), "{err}");
    // The line-based mode only sees the changed lines, and the field's
    // line did not change.
    let out = redline(
        d,
        &[
            "check",
            "--format",
            "json",
            "--new-from-rev",
            "HEAD",
            "--new-lines-only",
            ".",
        ],
    );
    assert_eq!(rules_at(&out), vec![]);
    assert_eq!(out.status.code(), Some(0));
}

/// A function longer than `first()`, so that git's diff moves `first()`.
const SECOND: &str = "func second() int {\n\ta := 1\n\tb := 2\n\tc := 3\n\td := 4\n\te := 5\n\treturn a + b + c + d + e\n}\n";

/// A moved function, an edit on the line of an old finding and a renamed
/// file bring no new finding; a real new one still shows.
#[test]
fn old_findings_stay_old_when_code_moves_or_is_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(
        d,
        "p/a.go",
        &format!(
            "package p\n\nfunc first() {{\n\tm := new(map[string]int)\n\t_ = m\n}}\n\n{SECOND}"
        ),
    );
    write(
        d,
        "p/b.go",
        "package p\n\nvar legacy = new(map[string]int)\n",
    );
    write(d, "p/c.go", "package p\n\nvar kept = new(map[int]int)\n");
    commit_all(d, "legacy");
    // first() moves below second(); b.go's line is edited around the
    // finding; c.go is renamed.
    write(
        d,
        "p/a.go",
        &format!(
            "package p\n\n{SECOND}\nfunc first() {{\n\tm := new(map[string]int)\n\t_ = m\n}}\n"
        ),
    );
    write(
        d,
        "p/b.go",
        "package p\n\nvar legacyIndex = new(map[string]int) // kept for the old API\n",
    );
    git(d, &["mv", "p/c.go", "p/renamed.go"]);
    let out = redline(
        d,
        &["check", "--format", "json", "--new-from-rev", "HEAD", "."],
    );
    assert_eq!(
        rules_at(&out),
        vec![],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    // The line-based mode reports the moved and the edited line.
    let out = redline(
        d,
        &[
            "check",
            "--format",
            "json",
            "--new-from-rev",
            "HEAD",
            "--new-lines-only",
            ".",
        ],
    );
    assert_eq!(
        rules_at(&out),
        vec![
            ("p/a.go".to_string(), "RL101".to_string()),
            ("p/b.go".to_string(), "RL101".to_string()),
        ]
    );
    // A second identical finding in a.go is new, the moved one is not.
    write(
        d,
        "p/a.go",
        &format!(
            "package p\n\n{SECOND}\nfunc first() {{\n\tm := new(map[string]int)\n\t_ = m\n}}\n\nfunc third() {{\n\tm := new(map[string]int)\n\t_ = m\n}}\n"
        ),
    );
    let out = redline(
        d,
        &["check", "--format", "json", "--new-from-rev", "HEAD", "."],
    );
    assert_eq!(
        rules_at(&out),
        vec![("p/a.go".to_string(), "RL101".to_string())]
    );
    assert_eq!(out.status.code(), Some(1));
}

/// The base is checked with the configuration it had.
#[test]
fn the_base_is_checked_with_its_own_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(d, "redline.toml", "ignore = [\"new-map\"]\n");
    write(d, "p/old.go", OLD);
    commit_all(d, "new-map ignored");
    // The working tree stops ignoring the rule: the legacy finding was not
    // a finding of the base, so it is new.
    std::fs::remove_file(d.join("redline.toml")).expect("rm");
    let out = configured(
        d,
        &["check", "--format", "json", "--new-from-rev", "HEAD", "."],
    );
    assert_eq!(
        rules_at(&out),
        vec![("p/old.go".to_string(), "RL101".to_string())]
    );
    // And with the rule enabled in the base too, nothing is new.
    commit_all(d, "new-map enabled");
    let out = configured(
        d,
        &["check", "--format", "json", "--new-from-rev", "HEAD", "."],
    );
    assert_eq!(rules_at(&out), vec![]);
    // --config inside the repository is read from the base too: the base's
    // ci.toml ignored the rule, the working tree's does not.
    write(d, "ci.toml", "ignore = [\"new-map\"]\n");
    commit_all(d, "ci config");
    write(d, "ci.toml", "ignore = []\n");
    let out = configured(
        d,
        &[
            "--config",
            "ci.toml",
            "check",
            "--format",
            "json",
            "--new-from-rev",
            "HEAD",
            ".",
        ],
    );
    assert_eq!(
        rules_at(&out),
        vec![("p/old.go".to_string(), "RL101".to_string())]
    );
    assert_eq!(out.status.code(), Some(1));
}
