//! Shared helpers of the integration tests: running the CLI in-process, and
//! finding Debian's Prometheus binaries (a missing binary fails the test
//! with a clear message; it never passes silently).

#![allow(dead_code)]

use clap::Parser;
use std::path::{Path, PathBuf};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: redline_slo::cli::SloArgs,
}

/// Runs `redline slo ARGS...`; returns (exit code, stdout, stderr).
pub fn slo(args: &[&str]) -> (u8, String, String) {
    slo_with_config(None, args)
}

/// Runs `redline --config CONFIG slo ARGS...`.
pub fn slo_with_config(config: Option<&Path>, args: &[&str]) -> (u8, String, String) {
    let cli = Cli::try_parse_from(std::iter::once("slo").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("bad test arguments {args:?}: {e}"));
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = redline_slo::cli::run_with(&cli.args, config, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// The path of a required binary, or a panic that says how to install it.
pub fn require(bin: &str) -> String {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(bin);
        if p.is_file() {
            return p.display().to_string();
        }
    }
    panic!(
        "`{bin}` is not installed: this test needs Debian's Prometheus (`apt-get install -y prometheus`)"
    );
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// The Sloth release scripts/test.sh installs.
pub const SLOTH_VERSION: &str = "v0.16.0";

/// A binary on PATH or in the tools directory of scripts/test.sh
/// (`$REDLINE_TOOLS_DIR/bin`, `~/.cache/redline-test-tools/bin`). `None`
/// (after saying SKIPPED) when it is missing, or a panic when
/// REDLINE_REQUIRE_TOOLS is set.
pub fn tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let cache = std::env::var_os("REDLINE_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("redline-test-tools"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/redline-test-tools"))
        });
    if let Some(c) = cache {
        dirs.push(c.join("bin"));
    }
    let found = dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        let hint = if name == "sloth" {
            format!(
                "scripts/test.sh installs it (go install github.com/slok/sloth/cmd/sloth@{SLOTH_VERSION})"
            )
        } else {
            "install Debian's `prometheus` package".to_string()
        };
        if std::env::var_os("REDLINE_REQUIRE_TOOLS").is_some() {
            panic!("`{name}` is not installed: {hint}");
        }
        eprintln!("SKIPPED: `{name}` is not installed ({hint})");
    }
    found
}
