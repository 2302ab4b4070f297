//! The binary's own fixtures: what only the command line decides. Paths
//! named on the command line are checked even when they are test or tool
//! code (`tests/fixtures/explicit/`). Each file marks each expected
//! finding with a trailing `// want RL101`; the test fails on a missing
//! AND on an unexpected finding.
//!
//! Every other fixture (Go, go.mod, manifests, with per-directory
//! `redline.toml`) is checked in-process, by the one harness of the rule
//! catalog: `crates/redline_rules/tests/rules.rs`.

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
