//! `redline slo` reads the gate policies of the `[slo]` table of the
//! `redline.toml` it finds (`min-coverage`, `allow-no-traffic`, kebab-case
//! like `fail-below`): a bad value is an error naming the file, line and
//! column before Prometheus is asked; `report` takes `--allow-no-traffic`
//! with an optional `=BOOL`, as `status` does.

use std::path::Path;
use std::process::{Command, Output};

fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .current_dir(cwd)
        .env("REDLINE_CACHE_DIR", cwd.join(".redline-cache"))
        .output()
        .unwrap()
}

const SPEC: &str = "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(e[{{.window}}]))\n        total_query: sum(rate(t[{{.window}}]))\n";

#[test]
fn gate_policies_in_redline_toml_are_checked_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    std::fs::write(root.join("slo.yaml"), SPEC).unwrap();
    // Nothing listens on port 1: a config error must come before any query.
    let status = [
        "slo",
        "status",
        "slo.yaml",
        "--prometheus",
        "http://127.0.0.1:1",
        "--retries",
        "0",
    ];
    for (toml, expected) in [
        (
            "[slo]\nfail-below = 5\nmin-coverage = \"an hour\"\n",
            "redline.toml:3:1: [slo] min-coverage = an hour: give a duration (`1h`, `2d`), a share of the window (`10%`) or 0",
        ),
        ("[slo]\nallow-no-traffic = \"yes\"\n", "redline.toml:2:20: "),
        ("[slo]\nallow_no_traffic = true\n", "redline.toml:2:1: "),
    ] {
        std::fs::write(root.join("redline.toml"), toml).unwrap();
        let out = run(root, &status);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{toml}: {err}");
        assert!(err.contains(expected), "{toml}: {err}");
    }
    // Valid keys are read: the run gets as far as Prometheus (unreachable).
    std::fs::write(
        root.join("redline.toml"),
        "[slo]\nmin-coverage = \"10%\"\nallow-no-traffic = true\n",
    )
    .unwrap();
    let out = run(root, &status);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("redline.toml"), "{err}");
    // `report --allow-no-traffic` and `=false` parse.
    for flag in ["--allow-no-traffic", "--allow-no-traffic=false"] {
        let out = run(
            root,
            &[
                "slo",
                "report",
                "slo.yaml",
                "--prometheus",
                "http://127.0.0.1:1",
                "--retries",
                "0",
                "-o",
                "r.html",
                flag,
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains("127.0.0.1:1"), "{flag}: {err}");
    }
}
