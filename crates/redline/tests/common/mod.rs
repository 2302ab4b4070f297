//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `redline --isolated ARGS` in `dir`, with its cache inside `dir`.
pub fn redline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("--isolated")
        .args(args)
        .current_dir(dir)
        .env("REDLINE_CACHE_DIR", dir.join(".cache"))
        .output()
        .expect("redline runs")
}

/// Runs `redline ARGS` in `dir` with configuration discovery (the
/// `redline.toml` of `dir` applies), with its cache inside `dir`.
pub fn configured(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .current_dir(dir)
        .env("REDLINE_CACHE_DIR", dir.join(".cache"))
        .output()
        .expect("redline runs")
}

/// Writes `text` to `dir/rel`, creating directories.
pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write");
}

/// A chart/overlay fixture of redline_k8s (`tests/fixtures/render/NAME`).
pub fn render_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../redline_k8s/tests/fixtures/render")
        .join(name)
}

/// A tool on PATH (helm, kustomize, kubectl); `None` after saying it was
/// skipped, or a panic when REDLINE_REQUIRE_TOOLS is set (scripts/test.sh).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() && std::env::var_os("REDLINE_REQUIRE_TOOLS").is_some() {
        panic!("`{name}` is not on PATH: scripts/test.sh installs it");
    }
    if found.is_none() {
        eprintln!("skipped: `{name}` is not on PATH (scripts/test.sh installs it)");
    }
    found
}

/// Runs git in `dir` with a fixed identity and no signing; fails the test
/// when git fails.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
