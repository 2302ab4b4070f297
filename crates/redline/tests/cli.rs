//! End-to-end tests of the `redline` binary: exit codes, the JSON contract,
//! configuration errors, suppressions, explain/rules and the README table.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn redline() -> Command {
    let mut cmd = Command::cargo_bin("redline").unwrap();
    cmd.current_dir(repo_root());
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs redline in `dir` (config discovery starts there).
fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("redline")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn example_service_fails_and_clean_twin_passes() {
    let out = redline()
        .args(["--isolated", "check", "examples/orders-service"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in [
        "RL101", "RL301", "RL401", "RL402", "RL501", "RL502", "RL701", "RL704", "RL705",
    ] {
        assert!(text.contains(rule), "{rule} missing from:\n{text}");
    }
    assert!(!text.contains("hunter2"), "a secret was printed");
    let out = redline()
        .args(["--isolated", "check", "examples/orders-service/fixed"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no red lines crossed"));
}

#[test]
fn missing_path_is_exit_2_with_one_line() {
    let out = redline()
        .args(["--isolated", "check", "does/not/exist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("does/not/exist") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn usage_errors_are_exit_2() {
    let out = redline()
        .args(["check", "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
    let out = redline().args(["check", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = redline()
        .args(["--isolated", "check", "--select", "RL999", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RL999"));
}

#[test]
fn json_contract() {
    let out = redline()
        .args([
            "--isolated",
            "check",
            "--format",
            "json",
            "examples/orders-service",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["version", "diagnostics", "summary"]);
    assert_eq!(v["version"], 1);
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    for d in diags {
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "rule",
                "name",
                "severity",
                "path",
                "line",
                "column",
                "end_line",
                "end_column",
                "message",
                "help",
                "fix"
            ]
        );
        assert!(d["line"].as_u64().unwrap() >= 1);
        assert!(d["column"].as_u64().unwrap() >= 1);
        assert!(
            !d["path"].as_str().unwrap().starts_with('/'),
            "paths are relative"
        );
    }
    // Sorted by path, line, column, rule.
    let order: Vec<(String, u64, u64, String)> = diags
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // The RL101 fix is carried in the diagnostic.
    let rl101 = diags.iter().find(|d| d["rule"] == "RL101").unwrap();
    assert_eq!(rl101["fix"]["applicability"], "safe");
    assert_eq!(rl101["fix"]["edits"][0]["content"], "&OrderIndex{}");
    assert_eq!(rl101["fix"]["edits"][0]["line"], rl101["line"]);
    let summary = &v["summary"];
    assert_eq!(
        summary["diagnostics"].as_u64().unwrap() as usize,
        diags.len()
    );
    assert_eq!(summary["by_rule"]["RL101"], 1);
    assert!(summary["files_scanned"].as_u64().unwrap() >= 5);
    assert!(summary["elapsed_ms"].is_u64());
}

#[test]
fn config_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.go", "package main\n");
    write(
        dir.path(),
        "redline.toml",
        "select = [\"RL101\"]\n\n[severity]\nRL402 = \"error\"\nunknown-rule = \"error\"\n",
    );
    let out = run_in(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("redline.toml:5:1") && err.contains("unknown-rule"),
        "{err}"
    );

    write(dir.path(), "redline.toml", "selec = [\"RL101\"]\n");
    let out = run_in(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("redline.toml:1:1") && err.contains("selec"),
        "{err}"
    );
}

#[test]
fn config_is_found_walking_up_and_flags_override() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "svc/main.go",
        "package main\n\nimport \"os\"\n\nfunc main() { os.Setenv(\"A\", \"1\"); _ = new(map[int]int) }\n",
    );
    write(
        dir.path(),
        "redline.toml",
        "ignore = [\"os-setenv\"]\nfail-on = \"error\"\n[severity]\nnew-map = \"warning\"\n",
    );
    let svc = dir.path().join("svc");
    let run = |args: &[&str]| run_in(&svc, args);
    // RL301 ignored, RL101 downgraded to a warning, fail-on error → exit 0.
    let out = run(&["check", "--format", "json", "."]);
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(v["diagnostics"][0]["rule"], "RL101");
    assert_eq!(v["diagnostics"][0]["severity"], "warning");
    // The command line overrides the file.
    let out = run(&[
        "check",
        "--format",
        "json",
        "--fail-on",
        "warning",
        "--select",
        "RL3,RL1",
        ".",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["check", "--format", "json", "--ignore", "RL101", "."]);
    assert_eq!(json_of(&out)["diagnostics"].as_array().unwrap().len(), 0);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn suppressions_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.go",
        "package p\n\nimport \"os\"\n\nfunc f() {\n\t//redline:ignore RL301 -- the test harness owns this process\n\tos.Setenv(\"A\", \"1\")\n\tos.Setenv(\"B\", \"1\") //redline:ignore RL301\n\t//redline:ignore RL101 -- nothing here\n\tos.Clearenv() //redline:ignore RL777 -- typo\n}\n",
    );
    let out = run_in(
        dir.path(),
        &["--isolated", "check", "--format", "json", "."],
    );
    let v = json_of(&out);
    let got: Vec<(u64, String, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let summary: Vec<(u64, &str)> = got.iter().map(|(l, r, _)| (*l, r.as_str())).collect();
    // Line 7 is suppressed with a reason; line 8 is suppressed but the
    // suppression lacks a reason; line 10's suppression names no real rule.
    assert_eq!(
        summary,
        [(8, "RL001"), (9, "RL001"), (10, "RL301"), (10, "RL001")],
        "{got:#?}"
    );
    assert!(got[0].2.contains("no reason"));
    assert!(got[1].2.contains("suppresses nothing"));
    assert!(got[3].2.contains("RL777"));
}

#[test]
fn explain_and_rules() {
    let out = redline().args(["explain", "RL101"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# RL101 `new-map` (error)"), "{text}");
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix",
    ] {
        assert!(text.contains(section), "{section} missing");
    }
    let by_name = redline().args(["explain", "new-map"]).output().unwrap();
    assert_eq!(by_name.stdout, out.stdout);
    let out = redline().args(["explain", "RL999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = redline().args(["rules"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "RL000", "RL001", "RL101", "RL301", "RL401", "RL402", "RL501", "RL502", "RL601", "RL701",
        "RL705",
    ] {
        assert!(text.contains(id), "{id} missing from `redline rules`");
    }
}

#[test]
fn readme_rule_table_is_generated_from_the_registry() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- rules:start -->\n")
        .expect("README lacks the rules:start marker");
    let end = readme
        .find("<!-- rules:end -->")
        .expect("README lacks the rules:end marker");
    let table = &readme[start + "<!-- rules:start -->\n".len()..end];
    let out = redline().args(["rules", "--markdown"]).output().unwrap();
    assert_eq!(
        table,
        String::from_utf8_lossy(&out.stdout),
        "README's rule table is stale: run `cargo run -p redline -- rules --markdown` and paste it between the markers"
    );
}

#[test]
fn arbitrary_bytes_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    // A deterministic xorshift generator: reproducible inputs.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds: &[&[u8]] = &[
        b"package p\nfunc f() { m := new(map[string]int); (*m)[\"a\"] = 1 }\n",
        b"package p\nimport h \"net/http\"\nvar s = &h.Server{ReadTimeout: 0}\n",
        b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n",
    ];
    for i in 0..60 {
        let seed = seeds[i % seeds.len()];
        let mut bytes = seed.to_vec();
        for _ in 0..(next() % 12) {
            let pos = (next() as usize) % (bytes.len() + 1);
            match next() % 3 {
                0 if !bytes.is_empty() => {
                    bytes.remove(pos.min(bytes.len() - 1));
                }
                1 => bytes.insert(pos, (next() & 0xff) as u8),
                _ => {
                    let punct = b"{}()[]:\"`\n\t-";
                    bytes.insert(pos, punct[(next() as usize) % punct.len()])
                }
            }
        }
        let ext = if i % seeds.len() == 2 { "yaml" } else { "go" };
        write(dir.path(), &format!("f{i}.{ext}"), "");
        std::fs::write(dir.path().join(format!("f{i}.{ext}")), &bytes).unwrap();
    }
    let out = run_in(
        dir.path(),
        &["--isolated", "check", "--format", "json", "."],
    );
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["summary"]["files_scanned"].as_u64(), Some(60));
}

#[test]
fn required_module_checks_every_go_mod() {
    let dir = tempfile::tempdir().unwrap();
    let sdk = "go.example.com/platform/slo-sdk";
    // Missing the required module, in ten shapes.
    let missing = [
        "module a\n\ngo 1.22\n",
        "module b\n\ngo 1.22\n\nrequire go.uber.org/zap v1.27.0\n",
        "module c\n\nrequire (\n\tgo.uber.org/zap v1.27.0\n)\n",
        "module d\n\n// require go.example.com/platform/slo-sdk v1.0.0\n",
        "module e\n\nrequire go.example.com/platform/slo-sdk-extra v1.0.0\n",
        "module f\n\nrequire go.example.com/platform v1.0.0\n",
        "module g\n\nreplace go.example.com/platform/slo-sdk => ../sdk\n",
        "module h\n\nexclude go.example.com/platform/slo-sdk v0.1.0\n",
        "module \"i\"\n\ngo 1.23\ntoolchain go1.23.2\n",
        "module j // the service\n\nrequire (\n)\n",
    ];
    // Requiring it, in ten shapes.
    let present = [
        "module k\n\nrequire go.example.com/platform/slo-sdk v1.2.0\n",
        "module l\n\nrequire (\n\tgo.example.com/platform/slo-sdk v1.2.0\n)\n",
        "module m\n\nrequire (\n\tgo.uber.org/zap v1.27.0\n\tgo.example.com/platform/slo-sdk v1.2.0 // indirect\n)\n",
        "module n\n\nrequire \"go.example.com/platform/slo-sdk\" v1.2.0\n",
        "module o\n\nrequire go.example.com/platform/slo-sdk v1.2.0 // pinned\n",
        "module p\n\nrequire go.example.com/platform/slo-sdk v0.0.0-20260101000000-abcdef123456\n",
        "module q\n\nrequire go.example.com/platform/slo-sdk v1.2.0\nreplace go.example.com/platform/slo-sdk => ../sdk\n",
        "// header comment\nmodule r\n\ngo 1.24\n\nrequire (\n\t// the SDK\n\tgo.example.com/platform/slo-sdk v1.2.0\n)\n",
        "module s\r\n\r\nrequire go.example.com/platform/slo-sdk v1.2.0\r\n",
        "module t\n\nrequire (\n\tgo.example.com/platform/slo-sdk v1.2.0\n\tgo.example.com/platform/slo-sdk/v2 v2.0.0\n)\n",
    ];
    for (i, text) in missing.iter().enumerate() {
        write(dir.path(), &format!("missing{i}/go.mod"), text);
    }
    for (i, text) in present.iter().enumerate() {
        write(dir.path(), &format!("present{i}/go.mod"), text);
    }
    write(
        dir.path(),
        "redline.toml",
        &format!("required-modules = [\"{sdk}\"]\n"),
    );
    let out = run_in(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    let found: Vec<(String, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["rule"], "RL601", "{d}");
            assert!(d["message"].as_str().unwrap().contains(sdk));
            (
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = (0..missing.len())
        .map(|i| (format!("missing{i}/go.mod"), 1))
        .collect();
    assert_eq!(
        found, expected,
        "RL601 is reported at the module line of each go.mod lacking the module, and only there"
    );

    // Inactive until configured.
    let out = run_in(
        dir.path(),
        &["--isolated", "check", "--format", "json", "."],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_of(&out)["diagnostics"].as_array().unwrap().len(), 0);
}

/// The progress bar, on a real terminal: `script` gives redline a pty.
/// With the delay at 0 a scan of a few hundred files draws the bar and
/// erases it; through a pipe there is never a bar.
#[test]
fn progress_bar_draws_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let body: String = (0..200)
        .map(|i| {
            format!("func f{i}(m map[string]int) int {{\n\tm[\"k\"] = {i}\n\treturn len(m)\n}}\n\n")
        })
        .collect();
    for p in 0..40 {
        for f in 0..10 {
            write(
                dir.path(),
                &format!("p{p}/f{f}.go"),
                &format!("package p{p}\n\n{body}").replace("func f", &format!("func g{f}_")),
            );
        }
    }
    let exe = assert_cmd::cargo::cargo_bin("redline");
    let cmd = format!(
        "{} --isolated check --no-cache {}",
        exe.display(),
        dir.path().display()
    );
    let out = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .env("REDLINE_PROGRESS_DELAY_MS", "0")
        .env("TERM", "xterm")
        .output()
        .expect("script(1) from util-linux runs");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{tty}");
    assert!(tty.contains("checking ["), "no bar on a terminal: {tty:?}");
    assert!(tty.contains("/400 files"), "{tty:?}");
    // Erased before the summary is printed.
    let last_bar = tty.rfind("checking [").unwrap();
    let erase = tty.rfind("\r\x1b[2K").unwrap();
    assert!(erase > last_bar, "{tty:?}");
    assert!(
        tty[erase..].contains("no red lines crossed in 400 files"),
        "{tty:?}"
    );

    // The same scan through a pipe: no bar, no escape codes.
    let out = redline()
        .env("REDLINE_PROGRESS_DELAY_MS", "0")
        .args(["--isolated", "check", "--no-cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("checking ["));
    assert!(!out.stderr.contains(&0x1b));
}
