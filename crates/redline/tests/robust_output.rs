//! Output that cannot be written: standard output on a full disk
//! (`/dev/full`) or a closed pipe (`| head -0`), standard error on a full
//! disk. No command panics (exit 101); a closed pipe exits quietly with the
//! run's own code, a full disk exits 2 and says so when stderr still works.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redline"));
    c.arg("--isolated").env(
        "REDLINE_CACHE_DIR",
        std::env::temp_dir().join("redline-robust-output-cache"),
    );
    c
}

fn dev_full() -> std::fs::File {
    OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux")
}

/// `redline ARGS >/dev/full`.
fn stdout_full(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdout(dev_full())
        .stderr(Stdio::piped())
        .output()
        .expect("redline runs")
}

/// `redline ARGS 2>/dev/full` (stdout is read).
fn stderr_full(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(dev_full())
        .output()
        .expect("redline runs")
}

/// `redline ARGS | head -0`: the read end is closed before redline writes.
fn stdout_closed(args: &[&str]) -> Output {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redline runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("redline exits")
}

/// `redline ARGS` with nothing in the way, for the expected exit code.
fn normal(args: &[&str]) -> Output {
    bin().args(args).output().expect("redline runs")
}

fn no_panic(what: &str, o: &Output) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code().is_some(),
        "{what}: killed by a signal: {:?}",
        o.status
    );
    assert_ne!(o.status.code(), Some(101), "{what}: panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

fn fixture_dir() -> String {
    format!(
        "{}/../redline_rules/tests/fixtures/go/rl101",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn slo_fixture() -> String {
    let p = format!(
        "{}/../redline_slo/tests/fixtures/sloth.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    assert!(Path::new(&p).is_file(), "{p}");
    p
}

/// Every command whose output goes to standard output.
fn commands() -> Vec<Vec<String>> {
    let dir = fixture_dir();
    let slo = slo_fixture();
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["rules"]),
        v(&["rules", "--markdown"]),
        v(&["explain", "RL101"]),
        v(&["check", "--no-cache", &dir]),
        v(&["check", "--no-cache", "--format", "json", &dir]),
        v(&["check", "--no-cache", "--format", "github", &dir]),
        v(&["check", "--no-cache", "--statistics", &dir]),
        v(&["check", "--no-cache", "--diff", &dir]),
        v(&["slo", "validate", &slo]),
        v(&["slo", "validate", "--format", "json", &slo]),
        v(&["slo", "generate", &slo]),
        v(&["--help"]),
    ]
}

#[test]
fn a_full_disk_on_stdout_is_exit_2_with_a_message() {
    for args in commands() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let what = format!("redline {} >/dev/full", args.join(" "));
        let o = stdout_full(&args);
        no_panic(&what, &o);
        assert_eq!(o.status.code(), Some(2), "{what}");
        if args[0] != "--help" {
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(
                stderr.contains("cannot write to standard output"),
                "{what}: {stderr}"
            );
        }
    }
}

#[test]
fn a_closed_pipe_exits_quietly_with_the_runs_code() {
    for args in commands() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let what = format!("redline {} | head -0", args.join(" "));
        let o = stdout_closed(&args);
        no_panic(&what, &o);
        let expected = normal(&args).status.code();
        assert_eq!(o.status.code(), expected, "{what}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            !stderr.contains("standard output") && !stderr.contains("Broken pipe"),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn a_full_disk_on_stderr_does_not_panic() {
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", "/nonexistent/redline-badpath"],
        vec!["check", "--no-cache", "--format", "nope", "."],
        vec!["explain", "RL999"],
        vec!["slo", "validate", "/nonexistent/slo.yaml"],
        vec!["--no-such-flag"],
    ];
    for args in cases {
        let what = format!("redline {} 2>/dev/full", args.join(" "));
        let o = stderr_full(&args);
        no_panic(&what, &o);
        assert_eq!(o.status.code(), Some(2), "{what}");
    }
    // A run with findings and warnings on stderr keeps its report.
    let dir = fixture_dir();
    let o = stderr_full(&["check", "--no-cache", "--diff", &dir]);
    no_panic("check --diff 2>/dev/full", &o);
    assert!(!o.stdout.is_empty());
}
