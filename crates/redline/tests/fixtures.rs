//! The fixture harness: every file under `tests/fixtures/` marks each
//! expected finding with a trailing `// want RL101` (`# want RL701` in
//! YAML) on its line. The whole tree is checked with every rule, and the
//! test fails on a missing AND on an unexpected finding. A quoted part of
//! the message after an id (`// want RL102 "nil here"`) is checked by the
//! rule's own test in `crates/redline_rules/tests/rules.rs`, which runs
//! the rule in-process over these fixtures.
//!
//! A fixture directory may carry its own `redline.toml`: redline finds it
//! as it finds any project's (the nearest one of each checked file, up to
//! the repository root), so rules and settings that need configuration get
//! fixtures too.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// (path relative to the fixtures root, line, rule).
type Finding = (String, usize, String);

fn expected(root: &Path) -> BTreeSet<Finding> {
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut out = BTreeSet::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let rel = f
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for (i, line) in text.lines().enumerate() {
            for leader in ["// want ", "# want "] {
                if let Some(pos) = line.find(leader) {
                    for id in line[pos + leader.len()..].split_whitespace() {
                        if id.starts_with("RL") {
                            out.insert((rel.clone(), i + 1, id.to_string()));
                        } else {
                            break;
                        }
                    }
                }
            }
        }
    }
    out
}

fn actual(root: &Path, paths: &[&str]) -> BTreeSet<Finding> {
    let output = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["check", "--no-cache", "--format", "json"])
        .args(paths)
        .current_dir(root)
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "redline exited {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap() as usize,
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn compare(sub: &str) {
    let root = fixtures_root();
    let want: BTreeSet<Finding> = expected(&root.join(sub))
        .into_iter()
        .map(|(p, l, r)| (format!("{sub}/{p}"), l, r))
        .collect();
    assert!(!want.is_empty(), "no `want` markers under {sub}");
    let got = actual(&root, &[sub]);
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "fixtures under {sub} disagree with redline:\n  missing: {missing:#?}\n  unexpected: {unexpected:#?}"
    );
}

#[test]
fn go_fixtures() {
    compare("go");
}

/// Every fixture file of the repository's own tree is checked with the
/// configuration found next to it (no `redline.toml` above the fixtures).
#[test]
fn fixture_configurations_are_the_nearest() {
    let mut dir = fixtures_root();
    while !dir.join(".git").exists() {
        assert!(
            !dir.join("redline.toml").exists(),
            "{} would configure every fixture",
            dir.join("redline.toml").display()
        );
        if !dir.pop() {
            break;
        }
    }
}

/// Paths named on the command line are checked even when they are test
/// or tool code; the test files of a named directory are not.
#[test]
fn explicit_paths_are_checked() {
    let root = fixtures_root();
    let want = expected(&root.join("explicit"))
        .into_iter()
        .map(|(p, l, r)| (format!("explicit/{p}"), l, r))
        .collect::<BTreeSet<_>>();
    assert_eq!(want.len(), 3, "{want:?}");
    let got = actual(
        &root,
        &[
            "explicit/hack",
            "explicit/suite_test.go",
            "explicit/tagged.go",
            "explicit",
        ],
    );
    assert_eq!(got, want);
    // Checked as a directory, the tool directory, the test file and the
    // e2e-tagged file are not.
    assert!(actual(&root, &["explicit"]).is_empty());
}
