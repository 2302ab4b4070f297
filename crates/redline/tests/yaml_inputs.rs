//! Hostile YAML through the binary: `redline check` (manifests) and
//! `redline slo validate` (SLO specs) read YAML with the same loader, so a
//! "billion laughs" alias bomb and 100 KB of nested block sequences are
//! refused by both, with the loader's own words, quickly, in bounded memory,
//! and without a crash (a stack overflow was exit 134).

use assert_cmd::Command;
use std::path::Path;
use std::time::{Duration, Instant};

/// 491 bytes of nested aliases: 10^9 nodes if expanded.
fn alias_bomb() -> String {
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..8u8 {
        let (prev, next) = ((b'a' + i) as char, (b'a' + i + 1) as char);
        text.push_str(&format!("{next}: &{next} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    text
}

/// 100 KB of `- - - … x` under a Kubernetes object.
fn deep_nesting() -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n{}x\n",
        "- ".repeat(50_000)
    )
}

/// Runs the redline binary under a 2 GiB address-space limit (`ulimit -v`),
/// so a runaway allocation fails the test instead of the machine.
fn run_limited(dir: &Path, args: &[&str]) -> (Option<i32>, String, Duration) {
    let bin = assert_cmd::cargo::cargo_bin("redline");
    let mut script = format!("ulimit -v 2097152; exec '{}'", bin.display());
    for a in args {
        script.push_str(&format!(" '{a}'"));
    }
    let started = Instant::now();
    let out = Command::new("sh")
        .current_dir(dir)
        .args(["-c", &script])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text, started.elapsed())
}

fn check_both(name: &str, text: &str, loader_words: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    // A YAML file that names no checked kind is RL000 at `info` (docs/rules.md,
    // RL000): `--fail-on info` makes the run fail on it.
    let (code, check, took) = run_limited(
        dir.path(),
        &[
            "--isolated",
            "check",
            "--format",
            "text",
            "--fail-on",
            "info",
            name,
        ],
    );
    assert_eq!(
        code,
        Some(1),
        "redline check must report RL000 and exit 1:\n{check}"
    );
    assert!(check.contains("RL000"), "{check}");
    assert!(check.contains(loader_words), "{check}");
    assert!(took < Duration::from_secs(20), "check took {took:?}");
    let (code, validate, took) = run_limited(dir.path(), &["slo", "validate", name]);
    assert_eq!(
        code,
        Some(1),
        "slo validate must refuse the file and exit 1:\n{validate}"
    );
    assert!(validate.contains(loader_words), "{validate}");
    assert!(took < Duration::from_secs(20), "validate took {took:?}");
    // The same loader message, at the same line and column.
    let line = |out: &str| {
        out.lines()
            .find(|l| l.contains(loader_words))
            .map(|l| l[l.find(loader_words).unwrap()..].to_string())
            .unwrap()
    };
    // `check` adds why the RL000 is only `info` (the file names no checked
    // kind) after the loader's own words.
    let (c, v) = (line(&check), line(&validate));
    assert!(c.starts_with(&v), "check: {c}\nvalidate: {v}");
    let at = |out: &str| {
        out.lines()
            .find(|l| l.contains(&format!("{name}:")))
            .and_then(|l| l.split(&format!("{name}:")).nth(1))
            .map(|rest| rest.split(':').take(2).collect::<Vec<_>>().join(":"))
            .unwrap_or_default()
    };
    assert_eq!(at(&check), at(&validate), "{check}\n{validate}");
}

#[test]
fn alias_bomb_is_refused_by_check_and_slo_validate_alike() {
    let text = alias_bomb();
    assert!(text.len() < 600);
    check_both("bomb.yaml", &text, "billion laughs");
}

#[test]
fn deep_nesting_is_refused_by_check_and_slo_validate_alike() {
    check_both("deep.yaml", &deep_nesting(), "nested deeper than");
}
