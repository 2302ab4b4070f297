//! Helpers shared by the `ci_*` integration tests.
#![allow(dead_code)]

use std::path::Path;
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

/// Writes `text` to `dir/rel`, creating directories.
pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write");
}
