//! `redline check` reports: `--format FORMAT:PATH` (several per run),
//! `--output FILE` with text still on the terminal, `--statistics`, and
//! reading one file from standard input (`--stdin-filename`).

mod common;
use common::*;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn redline_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("--isolated")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redline starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("redline runs")
}

const GO: &str =
    "package p\n\nvar a = new(map[string]int)\nvar b = new(map[int]int)\n\nfunc f() { _ = b }\n";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("p")).expect("mkdir");
    std::fs::write(dir.path().join("p/a.go"), GO).expect("write");
    dir
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn output_file_gets_the_report_and_the_terminal_gets_text() {
    let dir = tree();
    let out = redline(
        dir.path(),
        &[
            "check",
            "--no-cache",
            "--format",
            "sarif",
            "--output",
            "reports/r.sarif",
            ".",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text(&out).contains("p/a.go:3:9: error RL101[new-map]"),
        "{}",
        text(&out)
    );
    let sarif: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/r.sarif")).expect("report written"),
    )
    .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "RL101");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let rl101 = rules
        .iter()
        .find(|r| r["id"] == "RL101")
        .expect("RL101 described");
    assert!(
        rl101["help"]["markdown"]
            .as_str()
            .is_some_and(|h| h.contains("## What it does")),
        "rule help comes from the registry"
    );
    assert!(
        !dir.path().join(".no-cache-here").exists(),
        "--no-cache wrote a cache"
    );
}

#[test]
fn several_formats_in_one_run() {
    let dir = tree();
    let out = redline(
        dir.path(),
        &[
            "check",
            "--format",
            "github",
            "--format",
            "gitlab:gl.json,checkstyle:cs.xml",
            "--format",
            "junit:j.xml",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out);
    assert!(
        stdout.starts_with(
            "::error file=p/a.go,line=3,col=9,endLine=3,endColumn=28,title=RL101 new-map::"
        ),
        "{stdout}"
    );
    let gl: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("gl.json")).expect("gitlab report"),
    )
    .expect("JSON");
    assert_eq!(gl.as_array().map(Vec::len), Some(2));
    assert_ne!(gl[0]["fingerprint"], gl[1]["fingerprint"]);
    let cs = std::fs::read_to_string(dir.path().join("cs.xml")).expect("checkstyle report");
    assert!(cs.contains(r#"<file name="p/a.go">"#), "{cs}");
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).expect("junit report");
    assert!(junit.contains(r#"failures="2""#), "{junit}");
    // Two reports on standard output is a usage error.
    let out = redline(dir.path(), &["check", "--format", "github,json", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only one report"));
}

#[test]
fn statistics_count_per_rule() {
    let dir = tree();
    std::fs::write(
        dir.path().join("p/log.go"),
        "package p\n\nimport \"log\"\n\nfunc g() { log.Print(1) }\n",
    )
    .expect("write");
    let out = redline(dir.path(), &["check", "--statistics", "."]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = text(&out)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines[0], "2 RL101 new-map [2 fixable]", "{lines:?}");
    assert_eq!(lines[1], "1 RL401 std-log", "{lines:?}");
    let out = redline(
        dir.path(),
        &["check", "--statistics", "--format", "json", "."],
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON statistics");
    assert_eq!(v[0]["rule"], "RL101");
    assert_eq!(v[0]["count"], 2);
    assert_eq!(v[1]["rule"], "RL401");
}

#[test]
fn stdin_go_uses_the_package_on_disk() {
    let dir = tree();
    std::fs::write(
        dir.path().join("p/types.go"),
        "package p\n\ntype Index map[string]int\n",
    )
    .expect("write");
    let src = b"package p\n\nvar i = new(Index)\n";
    let out = redline_stdin(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "p/new.go",
            "-",
        ],
        src,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    // Only the stdin file is reported, though p/a.go has findings too; the
    // map type declared in p/types.go is known.
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["path"], "p/new.go");
    assert_eq!(diags[0]["rule"], "RL101");
    assert_eq!(diags[0]["line"], 3);
}

#[test]
fn stdin_yaml_is_checked_as_a_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: web:1\n          env:\n            - name: DATABASE_URL\n              valueFrom: {secretKeyRef: {name: db, key: url}}\n            - name: JWT_SECRET\n              valueFrom: {secretKeyRef: {name: jwt, key: key}}\n            - name: SERVICE_NAME\n              value: web\n          resources:\n            limits:\n              cpu: 500m\n";
    let out = redline_stdin(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "rendered.yaml",
            "-",
        ],
        manifest,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules: Vec<&str> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(rules, vec!["RL701"], "{v:#}");
    assert_eq!(v["diagnostics"][0]["path"], "rendered.yaml");
    assert_eq!(v["diagnostics"][0]["line"], 9);
}

#[test]
fn stdin_needs_a_file_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = redline_stdin(dir.path(), &["check", "-"], b"package p\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stdin-filename"));
    let out = redline_stdin(
        dir.path(),
        &["check", "--stdin-filename", "notes.txt", "-"],
        b"x",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot tell what to check"));
}

#[test]
fn stdin_fix_prints_the_fixed_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = redline_stdin(
        dir.path(),
        &["check", "--fix", "--stdin-filename", "a.go", "-"],
        b"package p\n\nvar m = new(map[string]int)\n",
    );
    assert_eq!(text(&out), "package p\n\nvar m = &map[string]int{}\n");
    assert_eq!(out.status.code(), Some(0), "nothing remains after the fix");
}
