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

/// Writes `openmetrics` to `DIR/data.om` and backfills `DIR/tsdb` from it
/// with promtool, in blocks of up to 10 days (60 times faster to write
/// than promtool's default 2h blocks). Returns the TSDB directory.
pub fn backfill(promtool: &str, dir: &Path, openmetrics: &str) -> PathBuf {
    let file = dir.join("data.om");
    std::fs::write(&file, openmetrics).unwrap();
    let tsdb = dir.join("tsdb");
    let out = std::process::Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg("--max-block-duration=240h")
        .arg(&file)
        .arg(&tsdb)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {promtool}: {e}"));
    assert!(
        out.status.success(),
        "promtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tsdb
}

/// A Prometheus serving a TSDB on a free loopback port. Dropping it stops
/// it and removes its scratch directory (kept when REDLINE_SLO_KEEP_TSDB is
/// set); `stop` and `start` restart it over the same TSDB.
pub struct Prometheus {
    child: Option<std::process::Child>,
    pub port: u16,
    pub dir: PathBuf,
    pub data: PathBuf,
    bin: PathBuf,
    flags: Vec<String>,
}

impl Prometheus {
    /// Starts `bin` over `data`, with its config and log in `dir` and the
    /// extra command-line `flags`, and waits until it is ready.
    pub fn start_with(bin: impl AsRef<Path>, dir: &Path, data: &Path, flags: &[&str]) -> Self {
        let mut p = Prometheus {
            child: None,
            port: free_port(),
            dir: dir.to_path_buf(),
            data: data.to_path_buf(),
            bin: bin.as_ref().to_path_buf(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        };
        p.start();
        p
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        use std::io::Write;
        use std::time::{Duration, Instant};
        let config = self.dir.join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
        let log = std::fs::File::create(self.dir.join("prometheus.log")).unwrap();
        let child = std::process::Command::new(&self.bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", self.data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .arg("--storage.tsdb.retention.time=3650d")
            .args(&self.flags)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cannot start prometheus");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ready = std::net::TcpStream::connect(("127.0.0.1", self.port))
                .and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(2)))?;
                    s.write_all(b"GET /-/ready HTTP/1.0\r\n\r\n")?;
                    let mut buf = String::new();
                    std::io::Read::read_to_string(&mut s, &mut buf)?;
                    Ok(buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200"))
                })
                .unwrap_or(false);
            if ready {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                let log =
                    std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default();
                panic!("prometheus exited with {status}:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "prometheus did not become ready in 90s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
        if std::env::var_os("REDLINE_SLO_KEEP_TSDB").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
