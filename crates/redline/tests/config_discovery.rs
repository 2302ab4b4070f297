//! Configuration found per checked file (README, "Configuration"): the
//! nearest `redline.toml` of each file up to the repository root, whatever
//! the working directory; `exclude` relative to the file that sets it;
//! `--stdin-filename` of an excluded path is excluded too.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .current_dir(cwd)
        .env("REDLINE_CACHE_DIR", cwd.join(".redline-cache"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// (absolute path, line, rule) of every finding, and the paths as shown.
fn findings(cwd: &Path, out: &Output) -> (BTreeSet<(PathBuf, u64, String)>, Vec<String>) {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut set = BTreeSet::new();
    let mut shown = Vec::new();
    for d in v["diagnostics"].as_array().unwrap() {
        let path = d["path"].as_str().unwrap();
        shown.push(path.to_string());
        set.insert((
            normalize(&cwd.join(path)),
            d["line"].as_u64().unwrap(),
            d["rule"].as_str().unwrap().to_string(),
        ));
    }
    (set, shown)
}

const SETENV: &str = "package p\n\nimport \"os\"\n\nfunc f() {\n\tos.Setenv(\"A\", \"1\")\n\t_ = new(map[int]int)\n}\n";

/// A repository with a root configuration and a nested one.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("repo");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    // Above the repository root: never read.
    write(outer.path(), "redline.toml", "select = [\"nope\"]\n");
    write(
        &root,
        "redline.toml",
        "ignore = [\"RL101\"]\nexclude = [\"gen/**\"]\n",
    );
    write(&root, "svc/main.go", SETENV);
    write(&root, "gen/x.go", SETENV);
    write(&root, "sub/gen/x.go", SETENV);
    // The nested file applies to sub/ (and does not inherit the root's).
    write(
        &root,
        "sub/redline.toml",
        "select = [\"RL101\"]\nexclude = [\"legacy/**\"]\n",
    );
    write(&root, "sub/a.go", SETENV);
    write(&root, "sub/legacy/b.go", SETENV);
    write(&root, "sub/hack/tool.go", SETENV);
    write(&root, "sub/a_test.go", SETENV);
    (outer, root)
}

#[test]
fn same_findings_from_the_root_a_subdirectory_and_outside() {
    let (outer, root) = repo();
    let sub = root.join("sub");
    let from_root = run(&root, &["check", "--format", "json", "."], None);
    let from_sub = run(&sub, &["check", "--format", "json", ".."], None);
    let abs = root.to_string_lossy().to_string();
    let from_outside = run(outer.path(), &["check", "--format", "json", &abs], None);
    let (a, shown_root) = findings(&root, &from_root);
    let (b, shown_sub) = findings(&sub, &from_sub);
    let (c, _) = findings(outer.path(), &from_outside);
    let want: BTreeSet<(PathBuf, u64, String)> = [
        (root.join("svc/main.go"), 6, "RL301".to_string()),
        (root.join("sub/a.go"), 7, "RL101".to_string()),
        // `gen/**` of the root's file is relative to the root: sub/gen is
        // not excluded by it, and sub's own file selects RL101 only.
        (root.join("sub/gen/x.go"), 7, "RL101".to_string()),
    ]
    .into_iter()
    .collect();
    assert_eq!(a, want, "from the root");
    assert_eq!(b, want, "from a subdirectory");
    assert_eq!(c, want, "from outside");
    // Paths are shown relative to each working directory.
    assert!(
        shown_root.contains(&"svc/main.go".to_string()),
        "{shown_root:?}"
    );
    assert!(
        shown_sub.contains(&"../svc/main.go".to_string()),
        "{shown_sub:?}"
    );
    assert_eq!(from_root.status.code(), Some(1));
    assert_eq!(from_sub.status.code(), Some(1));
    assert_eq!(from_outside.status.code(), Some(1));
}

#[test]
fn nested_configuration_is_found_from_the_checked_path() {
    let (_outer, root) = repo();
    let out = run(&root, &["check", "--format", "json", "sub/a.go"], None);
    let (got, _) = findings(&root, &out);
    let rules: Vec<&str> = got.iter().map(|(_, _, r)| r.as_str()).collect();
    assert_eq!(rules, ["RL101"], "sub/redline.toml selects RL101 only");
    // --config overrides the discovered files (its exclude is relative to
    // its own directory).
    let cfg = root.join("sub/redline.toml").to_string_lossy().to_string();
    let out = run(
        &root,
        &["--config", &cfg, "check", "--format", "json", "svc"],
        None,
    );
    let (got, _) = findings(&root, &out);
    let rules: Vec<&str> = got.iter().map(|(_, _, r)| r.as_str()).collect();
    assert_eq!(rules, ["RL101"]);
}

#[test]
fn excluded_stdin_filename_is_not_checked() {
    let (_outer, root) = repo();
    let out = run(
        &root,
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "gen/x.go",
            "-",
        ],
        Some(SETENV),
    );
    assert_eq!(out.status.code(), Some(0));
    let (got, _) = findings(&root, &out);
    assert!(got.is_empty(), "{got:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gen/x.go is excluded by `exclude` in redline.toml"),
        "{err}"
    );
    // The same source under a path that is not excluded is checked.
    let out = run(
        &root,
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "svc/new.go",
            "-",
        ],
        Some(SETENV),
    );
    assert_eq!(out.status.code(), Some(1));
    // --exclude on the command line excludes it too.
    let out = run(
        &root,
        &[
            "check",
            "--format",
            "json",
            "--exclude",
            "svc/**",
            "--stdin-filename",
            "svc/new.go",
            "-",
        ],
        Some(SETENV),
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_broken_nested_configuration_is_an_error_naming_it() {
    let (_outer, root) = repo();
    write(&root, "sub/redline.toml", "selec = [\"RL101\"]\n");
    let out = run(&root, &["check", "."], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sub/redline.toml:1:1"), "{err}");
}
