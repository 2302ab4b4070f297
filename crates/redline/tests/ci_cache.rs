//! The result cache: warm runs reuse it, edits invalidate exactly what
//! they touch, corrupt entries are rebuilt, `--no-cache` neither reads nor
//! writes, and the default location is outside the scanned tree.

use std::path::Path;
use std::process::{Command, Output};

fn redline(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("--isolated")
        .args(args)
        .current_dir(dir)
        .env("REDLINE_CACHE_DIR", cache)
        .env("REDLINE_CACHE_STATS", "1")
        .output()
        .expect("redline runs")
}

/// (hits, misses) from the REDLINE_CACHE_STATS line.
fn stats(out: &Output) -> (usize, usize) {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains(" hits, "))
        .unwrap_or_else(|| panic!("no cache statistics in: {err}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let n = nums.len();
    (nums[n - 2], nums[n - 1])
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in [
        ("a/a.go", "package a\n\nvar m = new(map[string]int)\n"),
        ("a/types.go", "package a\n\ntype T struct{}\n"),
        ("b/b.go", "package b\n\nfunc F() {}\n"),
    ] {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn warm_runs_hit_and_edits_invalidate_the_package() {
    let dir = tree();
    let cache = tempfile::tempdir().expect("cache dir");
    let cold = redline(dir.path(), cache.path(), &["check", "."]);
    assert_eq!(cold.status.code(), Some(1));
    assert_eq!(stats(&cold), (0, 2));
    let warm = redline(dir.path(), cache.path(), &["check", "."]);
    assert_eq!(stats(&warm), (2, 0));
    let strip_time = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with("found:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The last line carries the elapsed time, which differs.
    assert!(strip_time(&cold).contains("RL101"));
    assert_eq!(
        strip_time(&cold),
        strip_time(&warm),
        "cached findings render the same"
    );
    // Editing a file that is not the one with the finding still
    // invalidates its package: findings depend on all of a package's files.
    std::fs::write(
        dir.path().join("a/types.go"),
        "package a\n\ntype T struct{}\n\ntype Idx map[string]int\n\nvar i = new(Idx)\n",
    )
    .expect("write");
    let out = redline(
        dir.path(),
        cache.path(),
        &["check", "--format", "json", "."],
    );
    assert_eq!(stats(&out), (1, 1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(2));
    // Other configuration, other key.
    let out = redline(
        dir.path(),
        cache.path(),
        &["check", "--ignore", "RL101", "."],
    );
    assert_eq!(stats(&out), (0, 2));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn corrupt_entries_are_rebuilt_not_trusted() {
    let dir = tree();
    let cache = tempfile::tempdir().expect("cache dir");
    let cold = redline(
        dir.path(),
        cache.path(),
        &["check", "--format", "json", "."],
    );
    let mut files = Vec::new();
    all_files(cache.path(), &mut files);
    assert!(!files.is_empty(), "the cache was written");
    for (i, f) in files.iter().enumerate() {
        let mut bytes = std::fs::read(f).expect("entry");
        if i % 2 == 0 {
            // Flip a byte of the payload.
            let n = bytes.len();
            bytes[n - 5] ^= 0x01;
        } else {
            bytes.truncate(bytes.len() / 2);
        }
        std::fs::write(f, bytes).expect("corrupt");
    }
    let out = redline(
        dir.path(),
        cache.path(),
        &["check", "--format", "json", "."],
    );
    assert_eq!(stats(&out), (0, 2));
    let findings = |o: &Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        v["diagnostics"].clone()
    };
    assert_eq!(findings(&cold), findings(&out));
    let again = redline(dir.path(), cache.path(), &["check", "."]);
    assert_eq!(stats(&again), (2, 0), "rebuilt entries are used again");
}

#[test]
fn no_cache_and_default_location() {
    let dir = tree();
    let cache = tempfile::tempdir().expect("cache dir");
    let target = cache.path().join("never");
    let out = redline(dir.path(), &target, &["check", "--no-cache", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!target.exists(), "--no-cache wrote a cache");
    // Default: $XDG_CACHE_HOME/redline, outside the scanned tree.
    let xdg = tempfile::tempdir().expect("xdg");
    let out = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["--isolated", "check", "."])
        .current_dir(dir.path())
        .env_remove("REDLINE_CACHE_DIR")
        .env("XDG_CACHE_HOME", xdg.path())
        .output()
        .expect("redline runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(xdg.path().join("redline").is_dir());
    let mut files = Vec::new();
    all_files(dir.path(), &mut files);
    assert_eq!(
        files.len(),
        3,
        "nothing written into the scanned tree: {files:?}"
    );
    // --cache-dir wins over the environment.
    let flag = cache.path().join("flag");
    let out = redline(
        dir.path(),
        &target,
        &["check", "--cache-dir", flag.to_str().expect("utf-8"), "."],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(flag.is_dir() && !target.exists());
}

/// The payload of a cache entry (after the magic number and checksum).
fn payload(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes.get(24..).unwrap_or_default()).into_owned()
}

#[test]
fn an_entry_copied_under_another_key_is_not_trusted() {
    let dir = tree();
    let cache = tempfile::tempdir().expect("cache dir");
    let cold = redline(dir.path(), cache.path(), &["check", "."]);
    assert_eq!(cold.status.code(), Some(1));
    let mut files = Vec::new();
    all_files(cache.path(), &mut files);
    assert_eq!(files.len(), 2, "one entry per package: {files:?}");
    // Package a has the finding, package b is clean.
    let (dirty, clean): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|f| payload(&std::fs::read(f).expect("entry")).contains("RL101"));
    let (dirty, clean) = (dirty[0], clean[0]);
    // An intact, clean entry where the dirty package's entry was.
    std::fs::copy(clean, dirty).expect("copy");
    let out = redline(
        dir.path(),
        cache.path(),
        &["check", "--format", "json", "."],
    );
    assert_eq!(out.status.code(), Some(1), "the finding is still reported");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules: Vec<&str> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(rules, vec!["RL101"]);
    assert_eq!(stats(&out), (1, 1), "the copied entry is a miss");
}
